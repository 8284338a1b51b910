"""Training objectives: each a pure function plus a thin serializable Keras object.

Softmax cross-entropy on logits is Keras' own
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``.
"""

from speaker_tf.losses.center import (
    CenterLossLayer,
    bias_corrected_centers,
    center_loss,
    ema_center_update,
)
from speaker_tf.losses.contrastive import (
    SupervisedContrastiveLoss,
    supervised_contrastive_loss,
)
from speaker_tf.losses.distances import (
    DISTANCE_METRICS,
    pairwise_angular_distance,
    pairwise_distance,
    pairwise_l2_distance,
    pairwise_squared_distance,
)
from speaker_tf.losses.margin import (
    AdditiveAngularMarginLoss,
    additive_angular_margin_loss,
    angular_margin_logits,
)
from speaker_tf.losses.triplet import (
    TripletBatchAllLoss,
    TripletHardLoss,
    TripletPositiveFraction,
    TripletSemiHardLoss,
    triplet_batch_all_loss,
    triplet_hard_loss,
    triplet_positive_fraction,
    triplet_semihard_loss,
)

__all__ = [
    "DISTANCE_METRICS",
    "AdditiveAngularMarginLoss",
    "CenterLossLayer",
    "SupervisedContrastiveLoss",
    "TripletBatchAllLoss",
    "TripletHardLoss",
    "TripletPositiveFraction",
    "TripletSemiHardLoss",
    "additive_angular_margin_loss",
    "angular_margin_logits",
    "bias_corrected_centers",
    "center_loss",
    "ema_center_update",
    "pairwise_angular_distance",
    "pairwise_distance",
    "pairwise_l2_distance",
    "pairwise_squared_distance",
    "supervised_contrastive_loss",
    "triplet_batch_all_loss",
    "triplet_hard_loss",
    "triplet_positive_fraction",
    "triplet_semihard_loss",
]
