"""Per-speaker identity transforms: each one measured on a signal whose spectrum is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter, welch

from speaker_tf.data import voice_identity as vi

SR = 16000
NEUTRAL = {"warp": 1.0, "envelope_db": [0.0] * 6, "tilt_db_per_octave": 0.0}


def _noise(seconds: float = 8.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * SR))


def _resonance(x: np.ndarray, freq: float, bandwidth: float = 80.0) -> np.ndarray:
    """Two-pole resonator at ``freq`` Hz (pole radius from the bandwidth)."""
    r = np.exp(-np.pi * bandwidth / SR)
    return lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * freq / SR), r * r], x)


def _psd_db(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f, p = welch(x, fs=SR, nperseg=2048)
    return f, 10 * np.log10(p)


def _peak_hz(f: np.ndarray, psd_db: np.ndarray) -> float:
    """Power-weighted centre of the bins within 6 dB of the maximum (robust to PSD noise)."""
    near = psd_db > psd_db.max() - 6
    power = 10 ** (psd_db[near] / 10)
    return float(np.sum(f[near] * power) / np.sum(power))


def test_lpc_matches_the_normal_equations():
    frames = np.hanning(512)[None, :] * _resonance(_noise(0.2), 1200.0)[None, 1000:1512]
    a = vi.lpc(frames, order=10)[0]
    r = np.correlate(frames[0], frames[0], "full")[511 : 511 + 11]
    r[0] *= 1 + 1e-6
    assert np.allclose(a[1:], solve_toeplitz(r[:10], -r[1:11]), atol=1e-8)
    assert np.array_equal(vi.lpc(np.zeros((2, 512)))[:, 1:], np.zeros((2, vi.LPC_ORDER)))


def test_neutral_identity_reconstructs_the_input():
    x = _noise(1.0)
    assert np.allclose(vi.apply_identity(x, SR, NEUTRAL), x, atol=1e-10)


@pytest.mark.parametrize("warp", [0.87, 1.13])
def test_warp_moves_a_formant_by_the_factor(warp):
    x = _resonance(_noise(), 1000.0)
    f, before = _psd_db(x)
    _, after = _psd_db(vi.apply_identity(x, SR, {**NEUTRAL, "warp": warp}))
    assert abs(_peak_hz(f, before) - 1000.0) <= 5
    # The formant moves by 13 %; measured to within 1.5 % of the factor (LPC on 32 ms frames).
    assert abs(_peak_hz(f, after) / _peak_hz(f, before) - warp) < 0.015


def test_warp_keeps_harmonics_in_place():
    # A 150 Hz pulse train: its harmonics (F0) must not move, only their amplitudes.
    x = np.zeros(SR * 4)
    x[:: SR // 150] = 1.0
    x = _resonance(x, 700.0, 150.0)
    f, before = _psd_db(x)
    _, after = _psd_db(vi.apply_identity(x, SR, {**NEUTRAL, "warp": 1.15}))
    low = (f > 50) & (f < 2000)
    peaks = lambda p: set(f[low][np.argsort(p[low])[-8:]].round(-1))  # noqa: E731
    harmonic = lambda fs: all(min(abs(v - 150 * k) for k in range(1, 15)) <= 16 for v in fs)  # noqa: E731
    assert harmonic(peaks(before)) and harmonic(peaks(after))


def test_envelope_perturbation_is_the_set_curve():
    coefficients = [2.0, -1.5, 1.0, 0.0, -0.5, 0.8]
    x = _noise()
    f, before = _psd_db(x)
    _, after = _psd_db(vi.apply_identity(x, SR, {**NEUTRAL, "envelope_db": coefficients}))
    band = (f > 100) & (f < 7800)
    expected = vi.envelope_curve_db(f, coefficients, SR)
    assert np.max(np.abs((after - before - expected)[band])) < 0.5
    assert np.ptp(expected[band]) > 6  # the curve is not flat, so the check means something


@pytest.mark.parametrize("slope", [-3.0, 2.0])
def test_tilt_changes_the_slope_by_the_set_db_per_octave(slope):
    x = _noise()
    f, before = _psd_db(x)
    _, after = _psd_db(vi.apply_identity(x, SR, {**NEUTRAL, "tilt_db_per_octave": slope}))
    band = (f > 200) & (f < 6000)
    fitted = np.polyfit(np.log2(f[band]), (after - before)[band], 1)[0]
    assert abs(fitted - slope) < 0.1


def test_random_identity_ranges_and_determinism():
    ids = [vi.random_identity(np.random.default_rng(s)) for s in range(200)]
    warps = np.array([i["warp"] for i in ids])
    assert warps.min() >= 0.85 and warps.max() <= 1.15 and np.ptp(warps) > 0.25
    assert all(abs(i["tilt_db_per_octave"]) <= 3 and len(i["envelope_db"]) == 6 for i in ids)
    assert vi.random_identity(np.random.default_rng(7)) == ids[7]
