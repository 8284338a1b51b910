"""Supervised contrastive loss (Khosla et al. 2020, "Supervised Contrastive Learning",
NeurIPS, eq. 2, the "L_out" form).

With ``z`` the L2-normalised embeddings, ``A(i)`` all indices but ``i`` and ``P(i)``
those of ``A(i)`` sharing ``i``'s label:

    L = mean_{i : |P(i)| > 0}  -1/|P(i)| sum_{p in P(i)}
            log( exp(z_i.z_p / tau) / sum_{a in A(i)} exp(z_i.z_a / tau) )

The paper sums over anchors; the mean keeps the scale independent of the batch size.
Anchors without a positive (single-utterance speakers) are left out of the mean -- they
still act as negatives for the others -- and a batch with no positive pair gives 0.
"""

from __future__ import annotations

import keras
from keras import ops

from speaker_tf.losses.distances import TensorLike, as_float32, l2_normalize, same_label_mask

# Replaces the excluded self-similarity logit: exp() of it is 0 in float32 while it
# stays finite, so gradients never meet inf - inf.
_EXCLUDED_LOGIT = -1e9


def supervised_contrastive_loss(
    y_true: TensorLike, embeddings: TensorLike, temperature: float = 0.1
) -> TensorLike:
    """SupCon ``L_out`` over a batch.

    Args:
        y_true: integer labels [B] or [B, 1].
        embeddings: [B, D] (cast to float32, L2-normalised here).
        temperature: ``tau``.

    Returns:
        Scalar float32; 0 when no anchor has a positive.
    """
    z = l2_normalize(as_float32(embeddings), axis=1)
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    eye = ops.eye(ops.shape(logits)[0], dtype="bool")
    logits = ops.where(eye, _EXCLUDED_LOGIT, logits)
    log_prob = logits - ops.logsumexp(logits, axis=1, keepdims=True)
    positives = ops.cast(ops.logical_and(same_label_mask(y_true), ops.logical_not(eye)), "float32")
    n_pos = ops.sum(positives, axis=1)
    # where(): masked-out entries (the -1e9 diagonal) contribute neither value nor grad.
    pos_log_prob = ops.sum(ops.where(positives > 0, log_prob, 0.0), axis=1)
    per_anchor = -pos_log_prob / ops.maximum(n_pos, 1.0)
    has_pos = ops.cast(n_pos > 0, "float32")
    return ops.sum(per_anchor * has_pos) / ops.maximum(ops.sum(has_pos), 1.0)


@keras.saving.register_keras_serializable(package="speaker_tf")
class SupervisedContrastiveLoss(keras.losses.Loss):
    """Supervised contrastive loss on an embedding batch (scalar per batch)."""

    def __init__(
        self,
        temperature: float = 0.1,
        name: str = "supervised_contrastive_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}.")

    def call(self, y_true, y_pred):
        return supervised_contrastive_loss(y_true, y_pred, self.temperature)

    def get_config(self) -> dict:
        config = super().get_config()
        config["temperature"] = self.temperature
        return config
