"""Triplet losses and distances against brute-force NumPy loops and hand-derived values.

The NumPy references re-state the tensorflow-addons 0.23 definitions (including the
fallbacks of its masked min/max) with explicit loops in float64.
"""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from speaker_tf.losses import (
    TripletBatchAllLoss,
    TripletHardLoss,
    TripletPositiveFraction,
    TripletSemiHardLoss,
    pairwise_distance,
    triplet_batch_all_loss,
    triplet_hard_loss,
    triplet_positive_fraction,
    triplet_semihard_loss,
)

METRICS = ("L2", "squared-L2", "angular")
MARGINS = (0.0, 0.5, 1.0, 2.0)
LAYOUTS = ("same", "distinct", "mixed", "random")
TOL = dict(rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- references
def ref_distances(x: np.ndarray, metric: str) -> np.ndarray:
    x = x.astype(np.float64)
    b = len(x)
    d = np.zeros((b, b))
    for i in range(b):
        for j in range(b):
            if metric == "angular":
                ni = x[i] / math.sqrt(max(np.dot(x[i], x[i]), 1e-12))
                nj = x[j] / math.sqrt(max(np.dot(x[j], x[j]), 1e-12))
                d[i, j] = max(1.0 - float(np.dot(ni, nj)), 1e-16)
            elif i != j:
                sq = float(np.sum((x[i] - x[j]) ** 2))
                d[i, j] = math.sqrt(sq) if metric == "L2" else sq
    return d


def ref_semihard(y, x, margin, metric):
    d = ref_distances(x, metric)
    b = len(y)
    total, pairs = 0.0, 0
    for a in range(b):
        negs = [n for n in range(b) if y[n] != y[a]]
        for p in range(b):
            if p == a or y[p] != y[a]:
                continue
            pairs += 1
            outside = [d[a, n] for n in negs if d[a, n] > d[a, p]]
            if outside:
                chosen = min(outside)
            elif negs:
                chosen = max(d[a, n] for n in negs)
            else:  # TFA masked_maximum over an empty mask: the row minimum
                chosen = min(d[a, :])
            total += max(margin + d[a, p] - chosen, 0.0)
    return total / pairs if pairs else 0.0  # TFA: NaN when pairs == 0


def ref_hard(y, x, margin, soft, metric):
    d = ref_distances(x, metric)
    b = len(y)
    per_anchor = []
    for a in range(b):
        pos = [d[a, p] for p in range(b) if p != a and y[p] == y[a]]
        neg = [d[a, n] for n in range(b) if y[n] != y[a]]
        hp = max(pos) if pos else min(d[a, :])  # TFA empty-mask fallbacks
        hn = min(neg) if neg else max(d[a, :])
        if soft:
            per_anchor.append(math.log1p(math.exp(hp - hn)))
        else:
            per_anchor.append(max(hp - hn + margin, 0.0))
    return float(np.mean(per_anchor))


def ref_batch_all(y, x, margin, metric):
    """Returns (loss, positive fraction)."""
    d = ref_distances(x, metric)
    b = len(y)
    if margin <= 0:
        ap = [d[a, p] for a in range(b) for p in range(b) if a != p and y[a] == y[p]]
        loss = float(np.mean(ap)) if ap else 0.0
    active, valid, total = 0, 0, 0.0
    for a, p, n in itertools.product(range(b), repeat=3):
        if a == p or y[a] != y[p] or y[n] == y[a]:
            continue
        valid += 1
        value = d[a, p] - d[a, n] + margin
        if value > 0:
            active += 1
            total += value
    if margin > 0:
        loss = total / active if active else 0.0
    return loss, (active / valid if valid else 0.0)


def well_conditioned(y, x, metrics=METRICS, margins=MARGINS, gap=1e-3) -> bool:
    """No near-tie where float32 vs float64 could flip a discrete choice: semi-hard's
    d(a,n) > d(a,p) and batch-all's hinge > 0."""
    for metric in metrics:
        d = ref_distances(x, metric)
        b = len(y)
        for a, p, n in itertools.product(range(b), repeat=3):
            if a == p or y[a] != y[p] or y[n] == y[a]:
                continue
            diff = d[a, p] - d[a, n]
            if abs(diff) < gap or any(abs(diff + m) < gap for m in margins):
                return False
    return True


def make_labels(layout: str, b: int, rng: np.random.Generator) -> np.ndarray:
    if layout == "same":
        return np.full(b, 3)
    if layout == "distinct":
        return rng.permutation(b) + 10
    if layout == "mixed":  # groups of 2-4 plus singletons
        labels, k = [], 0
        while len(labels) < b:
            size = int(rng.choice([1, 1, 2, 3, 4]))
            labels += [k] * size
            k += 1
        return rng.permutation(np.array(labels[:b]))
    return rng.integers(0, 3, size=b)


def _seed(layout: str, metric: str, salt: int) -> int:
    """Stable per-case seed (str hashes are randomised per process)."""
    return 1000 * salt + 10 * LAYOUTS.index(layout) + METRICS.index(metric)


def random_batches(layout: str, seed: int, n: int = 5):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        b = int(rng.integers(2, 21))
        y = make_labels(layout, b, rng)
        x = rng.normal(size=(b, int(rng.integers(2, 9)))).astype(np.float32)
        if well_conditioned(y, x):
            out.append((y, x))
    return out


# --------------------------------------------------------------------------- distances
@pytest.mark.parametrize("metric", METRICS)
def test_pairwise_distance_matches_loops(metric):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5)).astype(np.float32)
    got = np.asarray(pairwise_distance(x, metric))
    np.testing.assert_allclose(got, ref_distances(x, metric), **TOL)


def test_unknown_metric_is_quoted():
    with pytest.raises(ValueError, match="'L1'"):
        pairwise_distance(np.zeros((2, 2), np.float32), "L1")
    with pytest.raises(ValueError, match="'cosine'"):
        TripletSemiHardLoss(distance_metric="cosine")


@pytest.mark.parametrize("metric", METRICS)
def test_distance_gradient_finite_at_zero(metric):
    x = tf.constant([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(pairwise_distance(x, metric))
    grad = tape.gradient(total, x).numpy()
    assert np.all(np.isfinite(grad))
    if metric == "L2":  # identical rows: exactly zero distance, zero diagonal
        d = pairwise_distance(x, metric).numpy()
        assert d[0, 1] == 0.0 and np.all(np.diag(d) == 0.0)


# --------------------------------------------------------------------------- brute force
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_semihard_matches_reference(layout, metric):
    for y, x in random_batches(layout, seed=_seed(layout, metric, 1)):
        for margin in MARGINS:
            got = float(triplet_semihard_loss(y, x, margin, metric))
            want = ref_semihard(y, x, margin, metric)
            np.testing.assert_allclose(got, want, **TOL, err_msg=f"{y} m={margin}")


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_hard_matches_reference(layout, metric):
    for y, x in random_batches(layout, seed=_seed(layout, metric, 2)):
        for margin in MARGINS:
            got = float(triplet_hard_loss(y, x, margin, False, metric))
            np.testing.assert_allclose(got, ref_hard(y, x, margin, False, metric), **TOL)
        got = float(triplet_hard_loss(y, x, 1.0, True, metric))
        np.testing.assert_allclose(got, ref_hard(y, x, 1.0, True, metric), **TOL)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_batch_all_matches_reference(layout, metric):
    for y, x in random_batches(layout, seed=_seed(layout, metric, 3)):
        for margin in MARGINS:
            want_loss, want_frac = ref_batch_all(y, x, margin, metric)
            got = float(triplet_batch_all_loss(y, x, margin, metric))
            frac = float(triplet_positive_fraction(y, x, margin, metric))
            np.testing.assert_allclose(got, want_loss, **TOL)
            np.testing.assert_allclose(frac, want_frac, **TOL)


# --------------------------------------------------------------------------- by hand
# 1-D embeddings 0, 1, 3 with labels a, a, b. L2 distances: d01 = 1, d02 = 3, d12 = 2.
HAND_Y = np.array([0, 0, 1])
HAND_X = np.array([[0.0], [1.0], [3.0]], np.float32)


def test_semihard_by_hand():
    # margin 2: pair (0,1): d=1, negative 2 at 3 > 1 -> [2 + 1 - 3]_+ = 0
    #           pair (1,0): d=1, negative 2 at 2 > 1 -> [2 + 1 - 2]_+ = 1  -> mean 0.5
    assert float(triplet_semihard_loss(HAND_Y, HAND_X, 2.0)) == pytest.approx(0.5)
    # margin 1: 0 and 0 -> 0
    assert float(triplet_semihard_loss(HAND_Y, HAND_X, 1.0)) == pytest.approx(0.0)
    # Fallback: embeddings 0, 3, 1 (labels a, a, b). Pair (0,1): d=3, the only
    # negative is at 1 (not > 3) -> farthest negative 1 -> [1 + 3 - 1]_+ = 3.
    # Pair (1,0): d=3, negative at 2 -> [1 + 3 - 2]_+ = 2. Mean 2.5.
    x = np.array([[0.0], [3.0], [1.0]], np.float32)
    assert float(triplet_semihard_loss(HAND_Y, x, 1.0)) == pytest.approx(2.5)
    # squared-L2, margin 2: d01 = 1, d02 = 9, d12 = 4 -> [2+1-9]_+ = 0, [2+1-4]_+ = 0
    assert float(triplet_semihard_loss(HAND_Y, HAND_X, 2.0, "squared-L2")) == 0.0


def test_hard_by_hand():
    # margin 2: anchor 0: hp 1, hn 3 -> 0; anchor 1: hp 1, hn 2 -> 1;
    # anchor 2 (single utterance): no positive -> row minimum d22 = 0, hn = 2 -> 0.
    assert float(triplet_hard_loss(HAND_Y, HAND_X, 2.0)) == pytest.approx(1.0 / 3.0)
    # soft: mean of log1p(exp(1-3)), log1p(exp(1-2)), log1p(exp(0-2))
    want = (2 * math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0))) / 3.0
    got = float(triplet_hard_loss(HAND_Y, HAND_X, soft=True))
    assert got == pytest.approx(want, rel=1e-6)


def test_batch_all_by_hand():
    # Valid triplets: (0,1,2): 1 - 3 + m and (1,0,2): 1 - 2 + m.
    # m = 2: values 0 (not active) and 1 (active) -> loss 1, fraction 1/2.
    assert float(triplet_batch_all_loss(HAND_Y, HAND_X, 2.0)) == pytest.approx(1.0)
    assert float(triplet_positive_fraction(HAND_Y, HAND_X, 2.0)) == pytest.approx(0.5)
    # m = 0.5: -1.5 and -0.5 -> nothing active -> 0 and 0.
    assert float(triplet_batch_all_loss(HAND_Y, HAND_X, 0.5)) == 0.0
    assert float(triplet_positive_fraction(HAND_Y, HAND_X, 0.5)) == 0.0
    # m = 0: "without negative distance": mean of d01, d10 = 1.
    assert float(triplet_batch_all_loss(HAND_Y, HAND_X, 0.0)) == pytest.approx(1.0)


# --------------------------------------------------------------------------- edge cases
EDGE_BATCHES = {
    # every speaker has a single utterance: no anchor-positive pair, no valid triplet
    "singletons": (np.array([0, 1, 2, 3]), np.random.default_rng(1).normal(size=(4, 3))),
    # one speaker only: no negatives at all
    "one_speaker": (np.array([5, 5, 5]), np.random.default_rng(2).normal(size=(3, 3))),
    # identical embeddings (zero distances) mixed with singletons
    "duplicates": (np.array([0, 0, 1, 1, 2]), np.array([[1.0, 2.0, 0.5]] * 5)),
    "one_sample": (np.array([0]), np.array([[0.3, -0.2, 0.1]])),
}
LOSS_FNS = {
    "semihard": lambda y, x, m: triplet_semihard_loss(y, x, 1.0, m),
    "hard": lambda y, x, m: triplet_hard_loss(y, x, 1.0, False, m),
    "hard_soft": lambda y, x, m: triplet_hard_loss(y, x, 1.0, True, m),
    "batch_all": lambda y, x, m: triplet_batch_all_loss(y, x, 0.5, m),
    "batch_all_noneg": lambda y, x, m: triplet_batch_all_loss(y, x, 0.0, m),
    "fraction": lambda y, x, m: triplet_positive_fraction(y, x, 0.5, m),
}


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("batch", sorted(EDGE_BATCHES))
def test_edge_cases_finite_values_and_gradients(batch, metric):
    y, x_np = EDGE_BATCHES[batch]
    for name, fn in LOSS_FNS.items():
        x = tf.constant(x_np, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(y, x, metric)
        grad = tape.gradient(value, x)
        assert np.isfinite(float(value)), (name, batch)
        if grad is not None:
            assert np.all(np.isfinite(grad.numpy())), (name, batch)


def test_no_positive_pair_gives_zero_not_nan():
    y, x = EDGE_BATCHES["singletons"]
    # deviation from tensorflow-addons, which returns 0/0 = NaN here
    assert float(triplet_semihard_loss(y, x.astype(np.float32))) == 0.0
    assert float(triplet_batch_all_loss(y, x.astype(np.float32))) == 0.0
    assert float(triplet_positive_fraction(y, x.astype(np.float32))) == 0.0


def test_labels_column_and_half_precision_inputs():
    # [B, 1] labels and float16 embeddings (exact here): computed in float32.
    got = triplet_semihard_loss(HAND_Y.reshape(-1, 1), tf.constant(HAND_X, tf.float16), 2.0)
    assert got.dtype == tf.float32
    assert float(got) == pytest.approx(0.5)


# --------------------------------------------------------------------------- classes
CLASS_CASES = [
    (TripletSemiHardLoss, dict(margin=0.7, distance_metric="angular")),
    (TripletHardLoss, dict(margin=0.3, soft=True, distance_metric="squared-L2")),
    (TripletBatchAllLoss, dict(margin=0.4, distance_metric="L2")),
]


@pytest.mark.parametrize("cls,kwargs", CLASS_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_loss_class_config_round_trips(cls, kwargs):
    y, x = random_batches("mixed", seed=11, n=1)[0]
    loss = cls(**kwargs, name="my_loss")
    config = loss.get_config()
    for key, value in kwargs.items():
        assert config[key] == value
    clone = cls.from_config(config)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is cls and restored.name == "my_loss"
    value = float(loss(y, x))
    assert float(clone(y, x)) == pytest.approx(value, abs=1e-7)
    assert float(restored(y, x)) == pytest.approx(value, abs=1e-7)


def test_positive_fraction_metric_round_trip_and_mean():
    (y1, x1), (y2, x2) = random_batches("random", seed=5, n=2)
    metric = TripletPositiveFraction(margin=0.8, distance_metric="angular")
    metric.update_state(y1, x1)
    metric.update_state(y2, x2)
    want = np.mean([ref_batch_all(y, x, 0.8, "angular")[1] for y, x in [(y1, x1), (y2, x2)]])
    np.testing.assert_allclose(float(metric.result()), want, **TOL)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert (clone.margin, clone.distance_metric) == (0.8, "angular")


def test_fit_with_triplet_loss_decreases_on_separable_data():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 6)) * 3.0
    y = np.repeat(np.arange(4), 16)
    x = (centres[y] + rng.normal(size=(64, 6))).astype(np.float32)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8), keras.layers.UnitNormalization()])
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=TripletSemiHardLoss(margin=0.5),
        metrics=[TripletPositiveFraction(margin=0.5)],
    )
    history = model.fit(x, y, batch_size=32, epochs=6, verbose=0, shuffle=True)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses
