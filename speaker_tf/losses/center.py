"""Center loss (Wen et al. 2016, "A Discriminative Feature Learning Approach for Deep
Face Recognition", ECCV; eq. 2 and the centre update of eq. 4).

Loss: ``L_C = mean_i 0.5 * ||x_i - c_{y_i}||^2`` -- Wen's ``1/2 sum_i`` written as a
batch mean so that its scale (and the weight ``lambda`` that goes with it) does not
depend on the batch size. The gradient w.r.t. ``x_i`` is ``(x_i - c_{y_i}) / B``;
centres receive no gradient.

Centres are state, not parameters. Instead of Wen's step ``c_j -= alpha * sum_{i: y_i=j}
(c_j - x_i) / (1 + n_j)`` they are an exponential moving average of the per-class batch
mean, with Adam-style bias correction per class (Kingma & Ba 2015, sec. 3):

    m_j <- decay * m_j + (1 - decay) * mean_{i: y_i = j} x_i      (classes in the batch)
    t_j <- t_j + 1
    c_j  = m_j / (1 - decay ** t_j)                                (c_j = 0 while t_j = 0)

Per class rather than global, because a class appears only in some batches: a global
step count would leave rarely seen classes shrunk towards the zero initialisation.
After the first update of a class its centre is exactly that batch's class mean.
"""

from __future__ import annotations

import keras
from keras import ops

from speaker_tf.losses.distances import TensorLike, flatten_labels


def center_loss(embeddings: TensorLike, labels: TensorLike, centers: TensorLike) -> TensorLike:
    """``mean_i 0.5 * ||x_i - c_{y_i}||^2`` with the centres held constant.

    Args:
        embeddings: [B, D] float.
        labels: integer class ids [B] or [B, 1], in ``[0, num_classes)``.
        centers: [num_classes, D] float, e.g. :attr:`CenterLossLayer.centers`.

    Returns:
        Scalar float32 (0 for an empty batch).
    """
    x = ops.cast(embeddings, "float32")
    idx = ops.cast(flatten_labels(labels), "int32")
    c = ops.stop_gradient(ops.take(ops.cast(centers, "float32"), idx, axis=0))
    per_sample = 0.5 * ops.sum(ops.square(x - c), axis=-1)
    n = ops.cast(ops.shape(per_sample)[0], "float32")
    return ops.sum(per_sample) / ops.maximum(n, 1.0)


def ema_center_update(
    ema: TensorLike, counts: TensorLike, embeddings: TensorLike, labels: TensorLike, decay: float
) -> tuple[TensorLike, TensorLike, TensorLike]:
    """One bias-corrected EMA step for the classes present in the batch.

    Args:
        ema: [C, D] raw (uncorrected) moving averages ``m``.
        counts: [C] number of updates ``t`` each class has had.
        embeddings: [B, D]; labels: [B] or [B, 1] integer class ids.
        decay: EMA decay in ``[0, 1)``.

    Returns:
        ``(new_ema, new_counts, centers)`` where ``centers`` are bias-corrected.
    """
    x = ops.cast(embeddings, "float32")
    idx = ops.cast(flatten_labels(labels), "int32")
    num_classes = ops.shape(ema)[0]
    sums = ops.segment_sum(x, idx, num_segments=num_classes)
    n = ops.segment_sum(ops.ones_like(idx, dtype="float32"), idx, num_segments=num_classes)
    present = ops.greater(n, 0.0)
    batch_mean = sums / ops.expand_dims(ops.maximum(n, 1.0), 1)
    # float32 decay throughout, so that after one update m / (1 - decay^1) is
    # exactly the batch mean (1 - decay rounds the same way in both places).
    d = ops.cast(decay, "float32")
    new_ema = ops.where(ops.expand_dims(present, 1), d * ema + (1.0 - d) * batch_mean, ema)
    new_counts = counts + ops.cast(present, counts.dtype)
    return new_ema, new_counts, bias_corrected_centers(new_ema, new_counts, decay)


def bias_corrected_centers(ema: TensorLike, counts: TensorLike, decay: float) -> TensorLike:
    """``m_j / (1 - decay ** t_j)``, and 0 for classes never updated (t_j = 0)."""
    correction = 1.0 - ops.power(ops.cast(decay, "float32"), counts)
    seen = ops.greater(counts, 0.0)
    safe = ops.where(seen, correction, 1.0)
    return ops.where(ops.expand_dims(seen, 1), ema / ops.expand_dims(safe, 1), 0.0)


@keras.saving.register_keras_serializable(package="speaker_tf")
class CenterLossLayer(keras.layers.Layer):
    """Pass-through layer that keeps class centres and adds ``weight * center_loss``.

    ``y = layer(embeddings, labels)`` returns ``embeddings`` unchanged. When called
    with ``training=True`` (as inside ``model.fit``) it first updates the centres of
    the classes in the batch (see module docstring), then adds the loss against the
    updated, bias-corrected centres with ``add_loss`` -- Keras 3 sums such losses into
    ``model.losses`` and adds them to the compiled loss, so it combines with any other
    objective. With ``training`` False/None (evaluation, prediction, direct calls) the
    centres are left alone and the loss is still added, against the current centres.
    The centres are non-trainable weights, saved with the model.

    Args:
        num_classes: number of speakers ``C``.
        decay: EMA decay of the centres.
        weight: factor ``lambda`` on the loss (Wen et al. use 0.003-0.01 with softmax).
    """

    def __init__(self, num_classes: int, decay: float = 0.95, weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes!r}.")
        if not 0.0 <= float(decay) < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay!r}.")
        self.num_classes = int(num_classes)
        self.decay = float(decay)
        self.weight = float(weight)

    def build(self, input_shape):
        dim = input_shape[-1]
        self.ema = self.add_weight(
            shape=(self.num_classes, dim),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            autocast=False,  # stay float32 under mixed precision
            name="center_ema",
        )
        self.counts = self.add_weight(
            shape=(self.num_classes,),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            autocast=False,
            name="center_counts",
        )

    @property
    def centers(self):
        """Bias-corrected centres [C, D] (0 for classes not seen yet)."""
        return bias_corrected_centers(self.ema, self.counts, self.decay)

    def call(self, embeddings, labels, training=None):
        if training:
            new_ema, new_counts, centers = ema_center_update(
                self.ema, self.counts, embeddings, labels, self.decay
            )
            self.ema.assign(new_ema)
            self.counts.assign(new_counts)
        else:
            centers = self.centers
        self.add_loss(self.weight * center_loss(embeddings, labels, centers))
        return embeddings

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "decay": self.decay, "weight": self.weight})
        return config
