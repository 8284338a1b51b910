"""Pairwise distances between embeddings, safe to differentiate at zero distance.

The three metrics follow the definitions used by tensorflow-addons 0.23
(``tfa.losses.metric_learning``) so that the triplet losses built on them give the
same numbers:

* ``"L2"``: Euclidean distance ``||x_i - x_j||``. Computed from the Gram expansion
  ``||x_i||^2 + ||x_j||^2 - 2 x_i.x_j``, clamped at 0 (rounding can make it
  slightly negative); where the squared distance is 0 the square root is taken of a
  tiny constant instead and the result is zeroed again, so the gradient there is 0
  rather than ``inf`` (d sqrt(u)/du = 1 / (2 sqrt(u)) is unbounded at u = 0).
* ``"squared-L2"``: ``||x_i - x_j||^2`` (same clamp, no square root).
* ``"angular"``: ``1 - cos(x_i, x_j)`` on L2-normalised rows, floored at 1e-16 as
  tensorflow-addons did (its diagonal is therefore ~0, not exactly 0).

The diagonal of the two Euclidean metrics is set to exactly 0.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# A Keras/TensorFlow tensor or anything convertible to one (NumPy array, list).
TensorLike = Any

DISTANCE_METRICS = ("L2", "squared-L2", "angular")

# Added under the square root where the squared distance is exactly zero, then
# multiplied away again: only there to keep sqrt's gradient finite.
_SQRT_GUARD = 1e-16
# Smallest squared norm used when L2-normalising (matches tf.math.l2_normalize).
_NORM_EPS = 1e-12


def check_distance_metric(distance_metric: str) -> str:
    """Reject unknown metric names early, quoting the bad value."""
    if distance_metric not in DISTANCE_METRICS:
        raise ValueError(
            f"Unknown distance_metric {distance_metric!r}; expected one of "
            f"{', '.join(repr(m) for m in DISTANCE_METRICS)}."
        )
    return distance_metric


def l2_normalize(x: TensorLike, axis: int = -1) -> TensorLike:
    """Row-wise L2 normalisation; a zero row stays zero and has a finite gradient."""
    sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x * ops.rsqrt(ops.maximum(sq, _NORM_EPS))


def flatten_labels(labels: TensorLike) -> TensorLike:
    """Labels of shape [B] or [B, 1] (any numeric dtype) -> shape [B]."""
    return ops.reshape(ops.convert_to_tensor(labels), (-1,))


def same_label_mask(labels: TensorLike) -> TensorLike:
    """[B, B] boolean matrix: True where labels[i] == labels[j] (diagonal included)."""
    labels = flatten_labels(labels)
    return ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))


def pairwise_squared_distance(embeddings: TensorLike) -> TensorLike:
    """``||x_i - x_j||^2`` for all pairs, clamped at 0, with an exact zero diagonal."""
    x = ops.convert_to_tensor(embeddings)
    sq_norms = ops.sum(ops.square(x), axis=1)
    gram = ops.matmul(x, ops.transpose(x))
    d2 = ops.expand_dims(sq_norms, 1) + ops.expand_dims(sq_norms, 0) - 2.0 * gram
    d2 = ops.maximum(d2, 0.0)
    off_diagonal = 1.0 - ops.eye(ops.shape(x)[0], dtype=d2.dtype)
    return d2 * off_diagonal


def pairwise_l2_distance(embeddings: TensorLike) -> TensorLike:
    """Non-squared Euclidean distances with a finite (zero) gradient where d = 0."""
    d2 = pairwise_squared_distance(embeddings)
    zero = ops.cast(ops.less_equal(d2, 0.0), d2.dtype)
    # sqrt(d2 + guard) where d2 == 0, then multiplied by 0 there: value 0, grad 0.
    return ops.sqrt(d2 + zero * _SQRT_GUARD) * (1.0 - zero)


def pairwise_angular_distance(embeddings: TensorLike) -> TensorLike:
    """``1 - cosine similarity`` of L2-normalised rows, floored at 1e-16."""
    x = l2_normalize(ops.convert_to_tensor(embeddings), axis=1)
    return ops.maximum(1.0 - ops.matmul(x, ops.transpose(x)), 1e-16)


def pairwise_distance(embeddings: TensorLike, distance_metric: str = "L2") -> TensorLike:
    """[B, D] embeddings -> [B, B] distance matrix for ``distance_metric``.

    Args:
        embeddings: float tensor [B, D].
        distance_metric: ``"L2"``, ``"squared-L2"`` or ``"angular"``.
    """
    check_distance_metric(distance_metric)
    if distance_metric == "L2":
        return pairwise_l2_distance(embeddings)
    if distance_metric == "squared-L2":
        return pairwise_squared_distance(embeddings)
    return pairwise_angular_distance(embeddings)


def as_float32(x: TensorLike) -> TensorLike:
    """Cast embeddings to float32 for the loss arithmetic (as tensorflow-addons did for
    float16/bfloat16), so mixed-precision models get full-precision distances."""
    x = ops.convert_to_tensor(x)
    if keras.backend.standardize_dtype(x.dtype) != "float32":
        x = ops.cast(x, "float32")
    return x


__all__ = [
    "DISTANCE_METRICS",
    "as_float32",
    "check_distance_metric",
    "flatten_labels",
    "l2_normalize",
    "pairwise_angular_distance",
    "pairwise_distance",
    "pairwise_l2_distance",
    "pairwise_squared_distance",
    "same_label_mask",
]
