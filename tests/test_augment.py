"""DataPP augmentation: Gaussian kernel / smoothing against NumPy, and the sampling
statistics of each random part against the distributions defined in augment.py.

Statistical tolerances are >= 4 standard errors of the tested mean or fraction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from speaker_tf.config.data import AugmentConfig
from speaker_tf.data.augment import _white_noise, add_noise, augment, gaussian_kernel, gaussian_smooth

ONLY_NONE = dict(noise=False, amplitude=False, smoothing=False)


def _map_seeds(fn, n: int, base: int = 0) -> np.ndarray:
    """fn(seed) for n stateless seeds [base, i], evaluated in one tf.data pass."""
    ds = tf.data.Dataset.range(n).map(
        lambda i: fn(tf.stack([tf.constant(base, tf.int64), i])),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return next(iter(ds.batch(n))).numpy()


def _np_kernel(sigma: float) -> np.ndarray:
    r = math.ceil(4 * sigma)
    x = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


@pytest.mark.parametrize("sigma", [0.3, 0.75, 1.5, 4.0])
def test_gaussian_kernel_and_smoothing_match_numpy(sigma):
    k = gaussian_kernel(sigma).numpy()
    ref = _np_kernel(sigma)
    np.testing.assert_allclose(k, ref, rtol=1e-5, atol=1e-7)
    assert k.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(k, k[::-1])
    x = np.random.default_rng(0).standard_normal(300).astype(np.float32)
    r = (len(ref) - 1) // 2
    expected = np.convolve(np.pad(x.astype(np.float64), r, mode="symmetric"), ref, mode="valid")
    np.testing.assert_allclose(gaussian_smooth(x, sigma).numpy(), expected, atol=1e-5)


def test_smoothing_identity_constant_and_lowpass():
    np.testing.assert_array_equal(gaussian_kernel(0.0).numpy(), [1.0])
    x = np.random.default_rng(1).standard_normal(4096).astype(np.float32)
    np.testing.assert_array_equal(gaussian_smooth(x, 0.0).numpy(), x)
    np.testing.assert_allclose(gaussian_smooth(x, 1e-4).numpy(), x, atol=1e-6)
    const = np.full(200, 0.37, np.float32)
    np.testing.assert_allclose(gaussian_smooth(const, 2.0).numpy(), const, rtol=1e-5)
    # White noise: energy in the upper half of the spectrum drops. For sigma = 2 the
    # filter's gain above fs/4 is exp(-(2 pi f sigma)^2 / 2) <= exp(-2 pi^2 / 4 * ...) << 1.
    y = gaussian_smooth(x, 2.0).numpy()

    def high(v):
        spec = np.abs(np.fft.rfft(v)) ** 2
        return spec[len(spec) // 2 :].sum()

    assert high(y) < 1e-3 * high(x)
    # A signal shorter than the kernel still works (radius clipped to its length).
    assert gaussian_smooth(np.ones(3, np.float32), 5.0).numpy() == pytest.approx(np.ones(3))


@pytest.mark.parametrize("amplitude_db", [20.0, 10.0])
def test_amplitude_gain_distribution(amplitude_db):
    cfg = AugmentConfig(**{**ONLY_NONE, "amplitude": True}, amplitude_db=amplitude_db)
    n = 4000
    out = _map_seeds(lambda s: augment(tf.ones([8]), s, cfg), n)
    assert np.allclose(out, out[:, :1])  # one gain per sample
    gain = out[:, 0].astype(np.float64)
    lo = 0.1 ** (amplitude_db / 10)
    assert gain.min() >= lo * (1 - 1e-6) and gain.max() <= 1.0
    log_gain = np.log10(gain)  # ~ U(-amplitude_db / 10, 0)
    width = amplitude_db / 10
    assert log_gain.mean() == pytest.approx(-width / 2, abs=4 * width / math.sqrt(12 * n))
    hist, _ = np.histogram(log_gain, bins=4, range=(-width, 0))
    assert np.all(np.abs(hist - n / 4) < 4 * math.sqrt(n * 0.25 * 0.75))


def _passes(cfg: AugmentConfig, n: int, force_first: bool = False) -> np.ndarray:
    return _map_seeds(lambda s: add_noise(tf.zeros([4]), s, cfg, force_first)[1], n)


def test_noise_pass_count_is_capped_geometric():
    p, cap, n = 0.7, 10, 4000
    cfg = AugmentConfig(p_noise=p, max_noise_passes=cap)
    k = _passes(cfg, n)
    assert k.min() == 0 and k.max() <= cap
    mean = sum(p**j for j in range(1, cap + 1))  # P(N >= j) = p^j
    var = sum((2 * j - 1) * p**j for j in range(1, cap + 1)) - mean**2
    assert k.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / n))
    assert (k == 0).mean() == pytest.approx(1 - p, abs=4 * math.sqrt(p * (1 - p) / n))
    for j in (1, 2, 3):  # geometric tail ratios
        assert (k >= j).mean() == pytest.approx(p**j, abs=4 * math.sqrt(p**j * (1 - p**j) / n))
    # Forced first layer (clean_one_two): N = 1 + continuations; extra passes mean
    # sum_{j=1..cap-1} p^j (about p / (1 - p) = 2.33).
    forced = _passes(cfg, n, force_first=True)
    assert forced.min() == 1
    extra = sum(p**j for j in range(1, cap))
    assert (forced - 1).mean() == pytest.approx(extra, abs=4 * math.sqrt(var / n))
    # Cap reached: p close to 1, cap 3.
    capped = _passes(AugmentConfig(p_noise=0.95, max_noise_passes=3), 400)
    assert capped.max() == 3 and (capped == 3).mean() > 0.7
    # Single step: Bernoulli(p).
    single = _passes(AugmentConfig(p_noise=p, multi_step_noise=False), n)
    assert set(np.unique(single)) == {0, 1}
    assert single.mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))


def test_white_noise_is_standard_normal():
    n = 100_001  # odd: one Box-Muller pair half used
    z = _white_noise(tf.constant(n), tf.constant([3, 4], tf.int64)).numpy().astype(np.float64)
    assert z.shape == (n,) and np.all(np.isfinite(z))
    assert z.mean() == pytest.approx(0.0, abs=4 / math.sqrt(n))
    assert z.var() == pytest.approx(1.0, abs=4 * math.sqrt(2 / n))
    assert np.mean(z**4) / z.var() ** 2 == pytest.approx(3.0, abs=4 * math.sqrt(96 / n))
    p1 = math.erf(1 / math.sqrt(2))  # P(|z| < 1)
    assert np.mean(np.abs(z) < 1) == pytest.approx(p1, abs=4 * math.sqrt(p1 * (1 - p1) / n))
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 4 / math.sqrt(n)  # no lag-1 correlation
    # The cos and sin of each pair (first and second half) are independent too.
    half = (n + 1) // 2
    assert abs(np.corrcoef(z[: n - half], z[half:])[0, 1]) < 4 / math.sqrt(n - half)


def test_noise_std_and_smoothed_noise():
    n = 2000
    cfg = AugmentConfig(p_noise=1.0, multi_step_noise=False, p_noise_smooth=0.0, noise_std=0.01)
    out = _map_seeds(lambda s: add_noise(tf.zeros([2048]), s, cfg)[0], n)
    std = out.std(axis=1)  # per-sample std ~ |N(0, 0.01)|: E = 0.01 sqrt(2 / pi)
    assert std.mean() == pytest.approx(0.01 * math.sqrt(2 / math.pi), rel=0.05)
    assert np.abs(out.mean(axis=1)).max() < 5 * std.max() / math.sqrt(2048) + 1e-6
    smooth_cfg = AugmentConfig(
        p_noise=1.0, multi_step_noise=False, p_noise_smooth=1.0, noise_smooth_sigma=3.0
    )
    sm = _map_seeds(lambda s: add_noise(tf.zeros([2048]), s, smooth_cfg)[0], 200)
    raw = out[:200]

    # Smoothed noise: lag-1 autocorrelation high; white noise: about 0.
    def lag1(v):
        v = v - v.mean(axis=1, keepdims=True)
        return np.sum(v[:, 1:] * v[:, :-1], axis=1) / np.maximum(np.sum(v * v, axis=1), 1e-30)

    big = std[:200] > 1e-4
    assert np.abs(lag1(raw[big])).mean() < 0.05
    assert np.median(lag1(sm)) > 0.5


def test_clean_one_two_policy_fractions():
    n = 4000
    cfg = AugmentConfig(smoothing=False, policy="clean_one_two", p_clean=0.1, p_two=0.5)
    x = tf.ones([16])
    out = _map_seeds(lambda s: augment(x, s, cfg), n)
    clean = np.all(out == 1.0, axis=1)
    constant = np.all(out == out[:, :1], axis=1)
    amp_only = constant & ~clean  # only a gain: still constant, not 1
    noisy = ~constant
    # P(clean) = 0.1; P(amplitude only) = 0.9 * 0.5 * 0.5; P(noise present) = 0.9 * (0.25 + 0.5).
    for frac, p in ((clean.mean(), 0.1), (amp_only.mean(), 0.225), (noisy.mean(), 0.675)):
        assert frac == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))


def test_datapp_smoothing_probability():
    # Only smoothing, of an alternating +-1 signal: a filtered sample loses most of its
    # amplitude unless sigma is tiny. P(changed by > 1e-3) = p_smooth * P(|N(0, .75)| > s0).
    n = 4000
    cfg = AugmentConfig(**{**ONLY_NONE, "smoothing": True}, p_smooth=0.5)
    x = tf.constant(np.tile([1.0, -1.0], 32), tf.float32)
    out = _map_seeds(lambda s: augment(x, s, cfg), n)
    changed = np.abs(out - x.numpy()).max(axis=1) > 1e-3
    # For the +-1 signal the centre tap loses 2 * sum(side taps) ~ 4 exp(-1 / (2 s^2)) at
    # small s; > 1e-3 when s > ~0.33 (checked numerically below).
    s0 = next(
        s
        for s in np.arange(0.05, 1.0, 0.001)
        if np.abs(np.convolve(np.tile([1.0, -1.0], 32), _np_kernel(s), "same")[10] - 1) > 1e-3
    )
    p = 0.5 * math.erfc(s0 / (0.75 * math.sqrt(2)))
    assert changed.mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))


def test_augment_deterministic_and_finite():
    cfg = AugmentConfig(enabled=True)
    x = tf.constant(np.random.default_rng(2).uniform(-1, 1, 512), tf.float32)
    a = _map_seeds(lambda s: augment(x, s, cfg), 50, base=1)
    b = _map_seeds(lambda s: augment(x, s, cfg), 50, base=1)
    c = _map_seeds(lambda s: augment(x, s, cfg), 50, base=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (50, 512) and np.all(np.isfinite(a))
    assert len({row.tobytes() for row in a}) == 50  # per-element seeds differ
    with pytest.raises(ValueError, match="policy"):
        augment(x, tf.constant([0, 0]), AugmentConfig(policy="bogus"))  # type: ignore[arg-type]
