"""Triplet losses with in-batch mining: semi-hard, hard and batch-all.

Notation: ``d(a, b)`` is the pairwise distance of :mod:`speaker_tf.losses.distances`;
an anchor-positive pair is ``(a, p)`` with ``a != p`` and the same label; a negative
``n`` of ``a`` has a different label. The hinge is ``[x]_+ = max(x, 0)``.

* Semi-hard (Schroff et al. 2015, "FaceNet", arXiv:1503.03832, sec. 3.2): for every
  anchor-positive pair the negative is the closest one that is still farther than the
  positive, ``min{d(a,n) : d(a,n) > d(a,p)}``; if none exists, the farthest negative
  ``max_n d(a,n)``. Loss = mean over pairs of ``[m + d(a,p) - d(a,n_sel)]_+``.
* Hard (Hermans et al. 2017, "In Defense of the Triplet Loss for Person
  Re-Identification", arXiv:1703.07737, eq. 5 "batch hard"; soft margin eq. 6): per
  anchor ``[m + max_p d(a,p) - min_n d(a,n)]_+`` or ``log(1 + exp(max_p - min_n))``,
  mean over all anchors.
* Batch-all (Hermans et al. 2017, eq. 4 "batch all"): every valid triplet
  ``(a, p, n)``; the mean of ``[d(a,p) - d(a,n) + m]_+`` over the triplets where it
  is positive (averaging over only the active triplets keeps the loss from vanishing
  as easy triplets dominate late in training).

Semi-hard and hard reproduce tensorflow-addons 0.23 ``TripletSemiHardLoss`` /
``TripletHardLoss`` numerically, including their fallbacks for anchors without
negatives/positives, which come from its masked min/max definition:
``masked_max(row, mask) = min(row) + max((row - min(row)) * mask)`` -- equal to the
maximum over the masked entries, or to the *row minimum* (diagonal included) when the
mask is empty; ``masked_min`` symmetrically gives the row maximum when empty.
The one deliberate deviation: a semi-hard batch with no anchor-positive pair at all
returns 0 where tensorflow-addons computed 0/0 = NaN.
"""

from __future__ import annotations

import keras
from keras import ops

from speaker_tf.losses.distances import (
    TensorLike,
    as_float32,
    check_distance_metric,
    pairwise_distance,
    same_label_mask,
)


def _masked_maximum(data, mask, axis: int = -1):
    """Max of ``data`` over ``mask`` along ``axis`` (kept); the minimum of the whole
    slice where ``mask`` is all False -- the tensorflow-addons fallback."""
    mask = ops.cast(mask, data.dtype)
    low = ops.min(data, axis=axis, keepdims=True)
    return ops.max((data - low) * mask, axis=axis, keepdims=True) + low


def _masked_minimum(data, mask, axis: int = -1):
    """Min of ``data`` over ``mask`` along ``axis`` (kept); the maximum of the whole
    slice where ``mask`` is all False -- the tensorflow-addons fallback."""
    mask = ops.cast(mask, data.dtype)
    high = ops.max(data, axis=axis, keepdims=True)
    return ops.min((data - high) * mask, axis=axis, keepdims=True) + high


def _prepare(y_true, y_pred, distance_metric: str):
    """Shared set-up: float32 distances, same-label mask, positive-pair mask."""
    check_distance_metric(distance_metric)
    embeddings = as_float32(y_pred)
    dist = pairwise_distance(embeddings, distance_metric)
    same = same_label_mask(y_true)
    eye = ops.eye(ops.shape(dist)[0], dtype="bool")
    positives = ops.logical_and(same, ops.logical_not(eye))
    negatives = ops.logical_not(same)
    return dist, positives, negatives


def _safe_divide(numerator, denominator):
    """numerator / denominator, and 0 where the denominator is 0 (no NaN, finite
    gradient: the numerator is then a sum over an empty set, i.e. exactly 0)."""
    return numerator / ops.maximum(denominator, 1.0)


def triplet_semihard_loss(
    y_true: TensorLike, y_pred: TensorLike, margin: float = 1.0, distance_metric: str = "L2"
) -> TensorLike:
    """Semi-hard triplet loss (FaceNet), equal to tensorflow-addons 0.23's.

    Args:
        y_true: integer labels [B] or [B, 1].
        y_pred: embeddings [B, D] (cast to float32).
        margin: the margin ``m``.
        distance_metric: ``"L2"``, ``"squared-L2"`` or ``"angular"``.

    Returns:
        Scalar float32; 0 when the batch has no anchor-positive pair.
    """
    dist, positives, negatives = _prepare(y_true, y_pred, distance_metric)
    d_ap = ops.expand_dims(dist, 2)  # [a, p, 1]
    d_an = ops.expand_dims(dist, 1)  # [a, 1, n]
    # Negatives farther from the anchor than this positive: [a, p, n].
    outside = ops.logical_and(ops.expand_dims(negatives, 1), ops.greater(d_an, d_ap))
    has_outside = ops.any(outside, axis=2)  # [a, p]
    d_an_b = ops.broadcast_to(d_an, ops.shape(outside))
    negatives_outside = ops.squeeze(_masked_minimum(d_an_b, outside, axis=2), 2)
    negatives_inside = _masked_maximum(dist, negatives, axis=1)  # [a, 1]
    chosen = ops.where(has_outside, negatives_outside, negatives_inside)
    hinge = ops.maximum(margin + dist - chosen, 0.0)
    pos = ops.cast(positives, dist.dtype)
    return _safe_divide(ops.sum(hinge * pos), ops.sum(pos))


def triplet_hard_loss(
    y_true: TensorLike,
    y_pred: TensorLike,
    margin: float = 1.0,
    soft: bool = False,
    distance_metric: str = "L2",
) -> TensorLike:
    """Batch-hard triplet loss (Hermans et al. 2017), equal to tensorflow-addons 0.23's.

    An anchor without a positive uses the row minimum (0 on the diagonal for the
    Euclidean metrics) as its hardest positive, one without a negative uses the row
    maximum as its hardest negative -- tensorflow-addons' behaviour, kept for parity.

    Args:
        y_true: integer labels [B] or [B, 1].
        y_pred: embeddings [B, D] (cast to float32).
        margin: the margin ``m`` (ignored when ``soft``).
        soft: use the soft margin ``log(1 + exp(hp - hn))``.
        distance_metric: ``"L2"``, ``"squared-L2"`` or ``"angular"``.

    Returns:
        Scalar float32, the mean over all anchors.
    """
    dist, positives, negatives = _prepare(y_true, y_pred, distance_metric)
    hardest_negative = _masked_minimum(dist, negatives, axis=1)
    hardest_positive = _masked_maximum(dist, positives, axis=1)
    gap = hardest_positive - hardest_negative
    if soft:
        # softplus(x) == log1p(exp(x)) without overflow for large x.
        per_anchor = ops.softplus(gap)
    else:
        per_anchor = ops.maximum(gap + margin, 0.0)
    return ops.mean(per_anchor)


def _batch_all_terms(y_true, y_pred, margin, distance_metric):
    """Hinge arguments of all triplets and the masks of valid / active ones."""
    dist, positives, negatives = _prepare(y_true, y_pred, distance_metric)
    valid = ops.logical_and(ops.expand_dims(positives, 2), ops.expand_dims(negatives, 1))  # [a, p, n]
    value = ops.expand_dims(dist, 2) - ops.expand_dims(dist, 1) + margin
    active = ops.logical_and(valid, ops.greater(value, 0.0))
    return dist, positives, value, valid, active


def triplet_batch_all_loss(
    y_true: TensorLike, y_pred: TensorLike, margin: float = 0.5, distance_metric: str = "L2"
) -> TensorLike:
    """Batch-all triplet loss: mean of the positive hinges over all valid triplets.

    With ``margin <= 0`` this is the "batch all without negative distance" variant
    (experiment note 128): the mean anchor-positive distance ``d(a, p)`` over all
    anchor-positive pairs, which only pulls same-speaker embeddings together.

    Args:
        y_true: integer labels [B] or [B, 1].
        y_pred: embeddings [B, D] (cast to float32).
        margin: Python number, the margin ``m``; ``<= 0`` selects the variant.
        distance_metric: ``"L2"``, ``"squared-L2"`` or ``"angular"``.

    Returns:
        Scalar float32; 0 when no triplet (or, for the variant, no pair) is active.
    """
    margin = float(margin)
    if margin <= 0.0:
        dist, positives, _ = _prepare(y_true, y_pred, distance_metric)
        pos = ops.cast(positives, dist.dtype)
        return _safe_divide(ops.sum(dist * pos), ops.sum(pos))
    _, _, value, _, active = _batch_all_terms(y_true, y_pred, margin, distance_metric)
    active = ops.cast(active, value.dtype)
    return _safe_divide(ops.sum(value * active), ops.sum(active))


def triplet_positive_fraction(
    y_true: TensorLike, y_pred: TensorLike, margin: float = 0.5, distance_metric: str = "L2"
) -> TensorLike:
    """Fraction of valid triplets whose hinge ``d(a,p) - d(a,n) + m`` is positive.

    A training signal worth logging with the batch-all loss: it falls as the easy
    triplets take over. 0 when the batch has no valid triplet. For ``margin <= 0``
    the same formula is used (the fraction of triplets violating ``d(a,p) + m <
    d(a,n)``), although the variant's loss ignores negatives.
    """
    _, _, _, valid, active = _batch_all_terms(y_true, y_pred, float(margin), distance_metric)
    n_active = ops.sum(ops.cast(active, "float32"))
    n_valid = ops.sum(ops.cast(valid, "float32"))
    return _safe_divide(n_active, n_valid)


class _TripletBase(keras.losses.Loss):
    """Common ``call``/``get_config`` for the scalar batch-mining losses."""

    _fn = None
    _arg_names: tuple[str, ...] = ()

    def call(self, y_true, y_pred):
        kwargs = {k: getattr(self, k) for k in self._arg_names}
        return type(self)._fn(y_true, y_pred, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._arg_names})
        return config


@keras.saving.register_keras_serializable(package="speaker_tf")
class TripletSemiHardLoss(_TripletBase):
    """Semi-hard triplet loss; same arguments as ``tfa.losses.TripletSemiHardLoss``.

    Returns a scalar for the whole batch, so ``sample_weight`` has no per-sample
    meaning here.
    """

    _fn = staticmethod(triplet_semihard_loss)
    _arg_names = ("margin", "distance_metric")

    def __init__(
        self,
        margin: float = 1.0,
        distance_metric: str = "L2",
        name: str = "triplet_semihard_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)
        self.distance_metric = check_distance_metric(distance_metric)


@keras.saving.register_keras_serializable(package="speaker_tf")
class TripletHardLoss(_TripletBase):
    """Batch-hard triplet loss; same arguments as ``tfa.losses.TripletHardLoss``."""

    _fn = staticmethod(triplet_hard_loss)
    _arg_names = ("margin", "soft", "distance_metric")

    def __init__(
        self,
        margin: float = 1.0,
        soft: bool = False,
        distance_metric: str = "L2",
        name: str = "triplet_hard_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)
        self.soft = bool(soft)
        self.distance_metric = check_distance_metric(distance_metric)


@keras.saving.register_keras_serializable(package="speaker_tf")
class TripletBatchAllLoss(_TripletBase):
    """Batch-all triplet loss; ``margin <= 0`` gives the no-negative-distance variant.

    Log :class:`TripletPositiveFraction` with the same arguments as a metric.
    """

    _fn = staticmethod(triplet_batch_all_loss)
    _arg_names = ("margin", "distance_metric")

    def __init__(
        self,
        margin: float = 0.5,
        distance_metric: str = "L2",
        name: str = "triplet_batch_all_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)
        self.distance_metric = check_distance_metric(distance_metric)


@keras.saving.register_keras_serializable(package="speaker_tf")
class TripletPositiveFraction(keras.metrics.Mean):
    """Metric: mean over batches of :func:`triplet_positive_fraction`.

    Use as ``model.compile(metrics=[TripletPositiveFraction(margin=...)])`` on the
    embedding output, with the batch-all loss's margin and metric.
    """

    def __init__(
        self,
        margin: float = 0.5,
        distance_metric: str = "L2",
        name: str = "triplet_positive_fraction",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.margin = float(margin)
        self.distance_metric = check_distance_metric(distance_metric)

    def update_state(self, y_true, y_pred, sample_weight=None):
        del sample_weight  # a batch-level quantity: one value per batch
        value = triplet_positive_fraction(y_true, y_pred, self.margin, self.distance_metric)
        return super().update_state(value)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"margin": self.margin, "distance_metric": self.distance_metric})
        return config
