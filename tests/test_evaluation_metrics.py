"""EER / minDCF / DET against hand-derived values and independent references."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from speaker_tf.evaluation.metrics import compute_eer, compute_min_dcf, det_curve, verification_report

# ---------------------------------------------------------------- hand-built cases


def test_perfect_separation_gives_zero_eer_and_zero_min_dcf():
    scores = [0.9, 0.8, 0.1, 0.2]
    labels = [1, 1, 0, 0]
    eer, thr = compute_eer(scores, labels)
    assert eer == 0.0
    # accepting score >= thr makes no errors
    s, y = np.array(scores), np.array(labels)
    assert np.all((s >= thr) == (y == 1))
    assert compute_min_dcf(scores, labels)[0] == 0.0


def test_fully_inverted_gives_eer_one_and_min_dcf_one():
    scores = [0.9, 0.8, 0.1, 0.2]
    labels = [0, 0, 1, 1]
    assert compute_eer(scores, labels)[0] == 1.0
    # no threshold beats the trivial systems, whose normalised cost is 1
    assert compute_min_dcf(scores, labels, p_target=0.01)[0] == pytest.approx(1.0)
    assert compute_min_dcf(scores, labels, p_target=0.5)[0] == pytest.approx(1.0)


def test_one_overlapping_pair_interpolated_by_hand():
    # targets {0.9, 0.8, 0.4}, non-targets {0.5, 0.1}; accept score >= t.
    #   t      p_miss  p_fa   d = p_fa - p_miss
    #   0.1    0       1       1
    #   0.4    0       1/2     1/2
    #   0.5    1/3     1/2     1/6
    #   0.8    1/3     0      -1/3
    #   0.9    2/3     0
    #   >0.9   1       0
    # Sign change between t=0.5 and t=0.8: alpha = (1/6) / (1/6 + 1/3) = 1/3,
    # EER = 1/2 + 1/3 * (0 - 1/2) = 1/3 (p_miss is 1/3 on the whole segment).
    # (The "average at min |d|" rule would give (1/2 + 1/3) / 2 = 5/12.)
    # t=0.5 has the smaller |d|, so it is the returned threshold.
    scores = [0.9, 0.8, 0.4, 0.5, 0.1]
    labels = [1, 1, 1, 0, 0]
    eer, thr = compute_eer(scores, labels)
    assert eer == pytest.approx(1 / 3, abs=1e-15)
    assert thr == 0.5
    # minDCF, p=0.01: normaliser min(0.01, 0.99) = 0.01 -> cost = p_miss + 99 p_fa:
    #   99, 49.5, 49.83, 1/3, 2/3, 1 -> 1/3 at t=0.8
    dcf, thr = compute_min_dcf(scores, labels, p_target=0.01)
    assert dcf == pytest.approx(1 / 3)
    assert thr == 0.8
    # p=0.5, c_fa=3: normaliser min(0.5, 1.5) = 0.5 -> cost = p_miss + 3 p_fa:
    #   3, 1.5, 1.83, 1/3, 2/3, 1 -> 1/3 at t=0.8
    dcf, thr = compute_min_dcf(scores, labels, p_target=0.5, c_fa=3.0)
    assert dcf == pytest.approx(1 / 3)
    assert thr == 0.8


def test_exact_crossing_at_an_operating_point():
    # targets {0.9, 0.4}, non-targets {0.5, 0.1}: at t=0.5 p_miss = p_fa = 1/2.
    eer, thr = compute_eer([0.9, 0.4, 0.5, 0.1], [1, 1, 0, 0])
    assert eer == 0.5
    assert thr == 0.5


def test_tied_scores_are_one_threshold_whatever_their_order():
    # targets {0.9, 0.5}, non-targets {0.5, 0.1}; the tie at 0.5 is one threshold:
    #   t=0.1: (p_miss 0, p_fa 1); t=0.5: (0, 1/2); t=0.9: (1/2, 0); t>0.9: (1, 0)
    # crossing between t=0.5 (d=1/2) and t=0.9 (d=-1/2): EER = 1/4.
    # Splitting the tie target-first or non-target-first would give 0 or 1/2.
    scores = np.array([0.9, 0.5, 0.5, 0.1])
    labels = np.array([1, 1, 0, 0])
    expected = 0.25
    for perm in ([0, 1, 2, 3], [0, 2, 1, 3], [3, 2, 1, 0], [2, 3, 0, 1]):
        assert compute_eer(scores[perm], labels[perm])[0] == pytest.approx(expected)
        assert compute_min_dcf(scores[perm], labels[perm], p_target=0.5)[0] == pytest.approx(0.5)


def test_all_identical_scores_give_half():
    assert compute_eer([1.0, 1.0, 1.0, 1.0], [0, 1, 0, 1])[0] == pytest.approx(0.5)
    # all equal: only accept-all / reject-all exist, both cost 1 when normalised
    assert compute_min_dcf([1.0] * 4, [0, 1, 0, 1])[0] == pytest.approx(1.0)


def test_det_curve_endpoints_and_monotonicity():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=200), 1)  # plenty of ties
    labels = rng.integers(0, 2, size=200)
    p_fa, p_miss, thr = det_curve(scores, labels)
    assert (p_fa[0], p_miss[0]) == (1.0, 0.0)
    assert (p_fa[-1], p_miss[-1]) == (0.0, 1.0)
    assert np.all(np.diff(thr) > 0)
    assert np.all(np.diff(p_fa) <= 0) and np.all(np.diff(p_miss) >= 0)
    assert len(thr) == len(np.unique(scores)) + 1
    assert np.all(thr[-1] > scores)


def test_verification_report_keys_and_values():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, size=300)
    scores = rng.normal(size=300) + 1.5 * labels
    rep = verification_report(scores, labels)
    assert rep["eer"] == compute_eer(scores, labels)[0]
    assert rep["min_dcf_p01"] == compute_min_dcf(scores, labels, p_target=0.01)[0]
    assert rep["min_dcf_p05"] == compute_min_dcf(scores, labels, p_target=0.05)[0]
    assert rep["n_target"] + rep["n_nontarget"] == 300
    assert 0 < rep["eer"] < 0.5


# ---------------------------------------------------------------- references


def _eer_from_sklearn_roc(scores, labels):
    """Brute force over sklearn's ROC points: interpolate where fpr - fnr changes sign."""
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    fnr = 1.0 - tpr
    # sklearn orders points by decreasing threshold: fpr rises, fnr falls.
    for i in range(len(fpr) - 1):
        d0 = fpr[i] - fnr[i]
        d1 = fpr[i + 1] - fnr[i + 1]
        if d0 == 0:
            return fpr[i]
        if d0 < 0 < d1:
            a = -d0 / (d1 - d0)
            return fpr[i] + a * (fpr[i + 1] - fpr[i])
    return fpr[-1]


def _min_dcf_brute_force(scores, labels, p_target, c_miss=1.0, c_fa=1.0):
    tar = scores[labels == 1]
    non = scores[labels == 0]
    best = np.inf
    for t in list(np.unique(scores)) + [np.inf]:
        p_miss = np.mean(tar < t)
        p_fa = np.mean(non >= t)
        dcf = c_miss * p_miss * p_target + c_fa * p_fa * (1 - p_target)
        best = min(best, dcf / min(c_miss * p_target, c_fa * (1 - p_target)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_eer_and_min_dcf_agree_with_references_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    labels = rng.integers(0, 2, size=n)
    labels[:2] = [0, 1]
    scores = rng.normal(size=n) + rng.uniform(0, 3) * labels
    if seed % 2:
        scores = np.round(scores, 1)  # many ties
    eer, _ = compute_eer(scores, labels)
    assert abs(eer - _eer_from_sklearn_roc(scores, labels)) < 1e-12
    for p, cm, cf in [(0.01, 1, 1), (0.05, 1, 1), (0.3, 2, 1)]:
        dcf, thr = compute_min_dcf(scores, labels, p_target=p, c_miss=cm, c_fa=cf)
        assert abs(dcf - _min_dcf_brute_force(scores, labels, p, cm, cf)) < 1e-12
        # the returned threshold achieves the returned cost
        p_miss = np.mean(scores[labels == 1] < thr)
        p_fa = np.mean(scores[labels == 0] >= thr)
        cost = (cm * p_miss * p + cf * p_fa * (1 - p)) / min(cm * p, cf * (1 - p))
        assert cost == pytest.approx(dcf, abs=1e-12)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "scores, labels, match",
    [
        ([0.1, 0.2, 0.3], [0, 1], "differ in length"),
        ([0.1, 0.2], [0, 2], "labels must be 0"),
        ([0.1, 0.2], [0, 0], "no target"),
        ([0.1, 0.2], [1, 1], "no non-target"),
        ([0.1, float("nan")], [0, 1], "NaN/inf"),
        ([0.1, float("inf")], [0, 1], "NaN/inf"),
    ],
)
def test_invalid_inputs_raise_value_error_naming_problem(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        compute_eer(scores, labels)
    with pytest.raises(ValueError, match=match):
        compute_min_dcf(scores, labels)


def test_invalid_p_target():
    with pytest.raises(ValueError, match="p_target"):
        compute_min_dcf([0.1, 0.2], [0, 1], p_target=1.0)


def test_boolean_labels_accepted():
    assert compute_eer([0.9, 0.1], [True, False])[0] == 0.0


def test_metrics_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, speaker_tf.evaluation.metrics; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
