"""Linear score fusion: z-normalisation, logistic-regression weights, persistence, errors."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_tf.errors import SpeakerTfError
from speaker_tf.evaluation.fusion import Fusion, fit_fusion, load_fusion
from speaker_tf.evaluation.metrics import compute_eer


def _two_systems(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two systems with independent errors: each alone has EER ~16 %, together less."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = 2.0 * y + rng.normal(0, 1, n)
    b = 2.0 * y + rng.normal(0, 1, n)
    return a, b, y


def test_z_normalisation_uses_calibration_mean_and_std():
    a, b, y = _two_systems()
    f = fit_fusion(a, b, y)
    assert f.mean_a == pytest.approx(a.mean()) and f.std_a == pytest.approx(a.std())
    assert f.mean_b == pytest.approx(b.mean()) and f.std_b == pytest.approx(b.std())
    # apply() is exactly w_a z_a + w_b z_b + bias, recomputed by hand
    expected = f.weight_a * (a - a.mean()) / a.std() + f.weight_b * (b - b.mean()) / b.std() + f.bias
    np.testing.assert_allclose(f.apply(a, b), expected, rtol=1e-12)


def test_independent_equal_systems_get_equal_weights_and_fusion_beats_each():
    a, b, y = _two_systems()
    f = fit_fusion(a, b, y)
    assert f.weight_a > 0 and f.weight_b > 0
    assert f.weight_a == pytest.approx(f.weight_b, rel=0.15)
    fused = compute_eer(f.apply(a, b), y)[0]
    # averaging two independent N(0, 1) errors: d' grows by sqrt(2), EER = Phi(-d'/2)
    assert fused < compute_eer(a, y)[0] - 0.03 and fused < compute_eer(b, y)[0] - 0.03


def test_uninformative_system_gets_near_zero_weight():
    a, _, y = _two_systems()
    noise = np.random.default_rng(1).normal(0, 1, y.shape)
    f = fit_fusion(a, noise, y)
    assert abs(f.weight_b) < 0.1 * f.weight_a


def test_positive_affine_rescaling_of_a_system_does_not_change_the_ranking():
    a, b, y = _two_systems()
    f1, f2 = fit_fusion(a, b, y), fit_fusion(3.0 * a - 7.0, b / 5.0 + 1.0, y)
    np.testing.assert_allclose(f1.apply(a, b), f2.apply(3.0 * a - 7.0, b / 5.0 + 1.0), rtol=1e-6, atol=1e-6)


def test_save_and_load_round_trip(tmp_path):
    a, b, y = _two_systems()
    f = fit_fusion(a, b, y, systems=("enc", "mfcc"))
    f.save(tmp_path / "fusion.json")
    assert load_fusion(tmp_path) == f
    assert load_fusion(tmp_path / "fusion.json") == f


def test_errors_name_the_problem(tmp_path):
    a, b, y = _two_systems(100)
    with pytest.raises(ValueError, match="constant"):
        fit_fusion(np.ones(100), b, y)
    with pytest.raises(ValueError, match="both target"):
        fit_fusion(a, b, np.ones(100))
    with pytest.raises(ValueError, match="aligned"):
        fit_fusion(a, b[:50], y)
    with pytest.raises(ValueError, match="one score per trial"):
        Fusion(0, 1, 0, 1, 1, 1, 0).apply(a, b[:3])
    with pytest.raises(SpeakerTfError, match="no fusion parameters"):
        load_fusion(tmp_path)
    (tmp_path / "fusion.json").write_text("{not json")
    with pytest.raises(SpeakerTfError, match="not a fusion parameter file"):
        load_fusion(tmp_path)
