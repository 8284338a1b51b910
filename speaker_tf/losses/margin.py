"""Additive angular margin softmax loss (ArcFace: Deng et al. 2019, "ArcFace: Additive
Angular Margin Loss for Deep Face Recognition", CVPR, eq. 3).

The head (``cos(theta_j)`` between the L2-normalised embedding and L2-normalised class
weights) lives in :mod:`speaker_tf.models`; this module only turns those cosines
``[B, C]`` into the loss:

    L_i = -log( e^{s cos(theta_y + m)} / (e^{s cos(theta_y + m)} + sum_{j != y} e^{s cos theta_j}) )

``cos(theta + m) = cos(theta) cos(m) - sin(theta) sin(m)`` with ``sin(theta) =
sqrt(1 - cos^2)`` taken on a cosine clipped to ``[-1 + eps, 1 - eps]`` (finite
gradient at |cos| = 1). ``theta + m`` beyond ``pi`` would make the target logit grow
again as theta grows, so there (``cos(theta) < cos(pi - m)``) the usual fallback
``cos(theta) - m sin(m)`` of the reference implementation (insightface) is used.

Plain softmax cross-entropy on logits needs nothing here: use
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from speaker_tf.losses.distances import TensorLike, flatten_labels

_COS_EPS = 1e-7


def _check_margin(margin: float) -> float:
    margin = float(margin)
    if not 0.0 <= margin < math.pi:
        raise ValueError(f"margin must be in [0, pi), got {margin!r}.")
    return margin


def angular_margin_logits(
    y_true: TensorLike, cosine: TensorLike, scale: float = 30.0, margin: float | TensorLike = 0.2
) -> TensorLike:
    """``s * cos(theta_y + m)`` for the target class, ``s * cos(theta_j)`` elsewhere.

    ``margin`` may be a Python float or a scalar tensor (used for the warm-up).
    """
    cosine = ops.cast(cosine, "float32")
    labels = ops.cast(flatten_labels(y_true), "int32")
    target = ops.cast(ops.one_hot(labels, ops.shape(cosine)[-1]), "bool")
    margin = ops.cast(margin, "float32")
    cos_t = ops.sum(ops.where(target, cosine, 0.0), axis=-1, keepdims=True)
    cos_t = ops.clip(cos_t, -1.0 + _COS_EPS, 1.0 - _COS_EPS)
    sin_t = ops.sqrt(1.0 - ops.square(cos_t))
    cos_m, sin_m = ops.cos(margin), ops.sin(margin)
    shifted = cos_t * cos_m - sin_t * sin_m
    # theta + m <= pi  <=>  cos(theta) >= cos(pi - m) = -cos(m)
    shifted = ops.where(cos_t > -cos_m, shifted, cos_t - margin * sin_m)
    return scale * ops.where(target, shifted, cosine)


def additive_angular_margin_loss(
    y_true: TensorLike, cosine: TensorLike, scale: float = 30.0, margin: float | TensorLike = 0.2
) -> TensorLike:
    """Per-sample ArcFace cross-entropy, shape [B].

    Args:
        y_true: integer class ids [B] or [B, 1].
        cosine: [B, C] cosine similarities in [-1, 1] from a cosine head.
        scale: the radius ``s``.
        margin: additive angle ``m`` in radians (float or scalar tensor).
    """
    logits = angular_margin_logits(y_true, cosine, scale, margin)
    labels = ops.cast(flatten_labels(y_true), "int32")
    return ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


@keras.saving.register_keras_serializable(package="speaker_tf")
class AdditiveAngularMarginLoss(keras.losses.Loss):
    """ArcFace loss on cosine logits with an optional linear margin warm-up.

    Warm-up design: when ``warmup_steps > 0`` the loss owns a non-trainable float32
    counter variable ``step``; call number ``k`` (0-based) uses the margin
    ``margin * min(k / warmup_steps, 1)`` and then increments the counter (it stops
    at ``warmup_steps``). A variable read and ``assign`` inside ``call`` is captured by
    the compiled ``model.fit`` train function, so no callback is needed. Keras calls
    the loss on validation batches too, and those calls count as well. ``get_config``
    stores the counter's current value as ``step``, so a model saved to ``.keras``
    and loaded again resumes the ramp where it stopped; to drive the ramp yourself,
    ``loss.step.assign(k)``.

    Args:
        scale: the radius ``s``.
        margin: the final angular margin ``m`` in radians.
        warmup_steps: number of calls over which the margin rises from 0 to ``m``.
        step: starting value of the counter (restored from a saved config).
    """

    def __init__(
        self,
        scale: float = 30.0,
        margin: float = 0.2,
        warmup_steps: int = 0,
        step: int = 0,
        name: str = "additive_angular_margin_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.scale = float(scale)
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}.")
        self.margin = _check_margin(margin)
        self.warmup_steps = int(warmup_steps)
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps!r}.")
        self.step = None
        if self.warmup_steps > 0:
            self.step = keras.Variable(
                float(min(int(step), self.warmup_steps)),
                dtype="float32",
                trainable=False,
                name="aam_warmup_step",
            )

    def current_margin(self):
        """The margin the next call will use (a tensor when warming up)."""
        if self.step is None:
            return self.margin
        ratio = ops.minimum(ops.convert_to_tensor(self.step) / self.warmup_steps, 1.0)
        return self.margin * ratio

    def call(self, y_true, y_pred):
        margin = self.current_margin()
        if self.step is not None:
            self.step.assign(ops.minimum(ops.convert_to_tensor(self.step) + 1.0, self.warmup_steps))
        return additive_angular_margin_loss(y_true, y_pred, self.scale, margin)

    def get_config(self) -> dict:
        config = super().get_config()
        step = 0
        if self.step is not None:
            step = int(round(float(ops.convert_to_numpy(self.step))))
        config.update(
            {
                "scale": self.scale,
                "margin": self.margin,
                "warmup_steps": self.warmup_steps,
                "step": step,
            }
        )
        return config
