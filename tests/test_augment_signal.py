"""The recipes' augmentation, one kind at a time: what each does to a signal.

References are independent: np.convolve for reverberation, scipy.signal.lfilter
on cookbook coefficients computed here for the EQ, analytic sinusoids for speed
and resampling, hand-derived error bounds for the companding laws, measured
powers for SNRs and spectra.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf
from scipy import signal as sps

from speaker_tf.config.data import RobustConfig
from speaker_tf.data.augment import channel, noise, reverb
from speaker_tf.data.augment.ops import fft_length, resample, scale_to_snr
from speaker_tf.data.augment.speed import change_speed
from speaker_tf.errors import CorpusError

SR = 16000
SEED = tf.constant([7, 11], tf.int64)


def _sine(freq: float, n: int, sr: int = SR) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(n) / sr).astype(np.float32)


def _band_power(x: np.ndarray, low: float, high: float, sr: int = SR) -> float:
    """Power of x between low and high Hz (Welch periodogram, Hann windows)."""
    f, p = sps.welch(x.astype(np.float64), fs=sr, nperseg=1024)
    return float(p[(f >= low) & (f <= high)].sum())


# ---------------------------------------------------------------- speed / resampling


@pytest.mark.parametrize("factor", [1.1, 0.9])
def test_speed_changes_length_and_frequency(factor):
    # 1,000 whole periods of 1 kHz in 16,000 samples: after the speed change the same
    # 1,000 periods fill round(16000 / factor) samples, i.e. frequency x factor.
    n = 16000
    y = change_speed(_sine(1000.0, n), factor).numpy()
    m = round(n / factor)
    assert y.shape == (m,)
    expected = np.sin(2 * np.pi * 1000 * np.arange(m) / m)
    np.testing.assert_allclose(y, expected, atol=2e-3)
    peak_hz = np.argmax(np.abs(np.fft.rfft(y))) * SR / m
    assert peak_hz == pytest.approx(1000 * n / m, abs=0.01)
    assert 1000 * n / m == pytest.approx(1000 * factor, rel=1e-4)


def test_resample_removes_what_the_new_rate_cannot_hold():
    # Speeding up 7.5 kHz by 1.1 would give 8.25 kHz, above Nyquist: removed, not aliased.
    x = _sine(7500.0, 16000) + _sine(1000.0, 16000)
    y = change_speed(x, 1.1).numpy()
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == 1000  # the 1 kHz tone: 1,000 periods, now at 1.1 kHz
    assert np.sort(spectrum)[-2] < 1e-3 * spectrum.max()  # nothing else: no alias
    # Down to 8 kHz and back: a 1 kHz tone survives exactly (periodic), length restored.
    tone = _sine(1000.0, 1600)
    np.testing.assert_allclose(resample(resample(tone, 800), 1600).numpy(), tone, atol=1e-4)


def test_fft_length_is_the_smallest_fast_size_not_below_n():
    fast = sorted({m * 2**k for m in (1, 3, 5) for k in range(23)})
    for n in [1, 2, 7, 1000, 16000, 16384, 16385, 23999, 24577, 2**20 + 1, 3 * 2**19 + 1]:
        assert int(fft_length(n)) == min(f for f in fast if f >= n), n


# ---------------------------------------------------------------- reverberation


def test_reverberate_is_the_convolution_with_the_rir():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000).astype(np.float32)
    rir = rng.standard_normal(300).astype(np.float32) * np.exp(-np.arange(300) / 50)
    y = reverb.reverberate(x, rir).numpy()
    np.testing.assert_allclose(y, np.convolve(x, rir)[:1000], atol=1e-4)
    # A bank RIR starts at its peak and has unit energy; a delta RIR is the identity.
    h = reverb.normalize_rir(np.concatenate([[0.1, -0.2], rir]), 200)
    assert h.shape == (200,) and np.argmax(np.abs(h)) == 0
    assert np.sum(h.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(
        reverb.reverberate(x, reverb.normalize_rir([0, 0, 3.0], 4)).numpy(), x, atol=1e-5
    )


def test_simulated_rooms_deterministic_and_longer_rt60_rings_longer():
    short = reverb.simulate_rooms(3, seed=1, sample_rate=SR, rt60_min=0.15, rt60_max=0.2, seconds=0.3)
    again = reverb.simulate_rooms(3, seed=1, sample_rate=SR, rt60_min=0.15, rt60_max=0.2, seconds=0.3)
    long = reverb.simulate_rooms(3, seed=1, sample_rate=SR, rt60_min=0.6, rt60_max=0.8, seconds=0.3)
    np.testing.assert_array_equal(short, again)
    assert short.shape == (3, 4800) and short.dtype == np.float32
    np.testing.assert_allclose(np.sum(short.astype(np.float64) ** 2, axis=1), 1.0, rtol=1e-5)
    assert np.all(np.argmax(np.abs(short), axis=1) == 0)  # direct path first
    # Energy after 50 ms: an exponential decay of RT60 T keeps exp(-13.8 t / T) of its power.
    tail = slice(int(0.05 * SR), None)
    assert np.all(np.sum(long[:, tail] ** 2, axis=1) > 2 * np.sum(short[:, tail] ** 2, axis=1))


def test_simulated_bank_is_cached_and_never_rebuilt(tmp_path, monkeypatch):
    cfg = RobustConfig(rooms=2, rir_seconds=0.1, rir_cache=str(tmp_path))
    bank = reverb.rir_bank(cfg, SR)
    path = reverb.bank_path(cfg, SR)
    assert path.is_file() and path.parent == tmp_path / "rirs"
    monkeypatch.setattr(reverb, "simulate_rooms", lambda *a, **k: pytest.fail("simulated again"))
    np.testing.assert_array_equal(reverb.rir_bank(cfg, SR), bank)
    assert (
        reverb.bank_path(RobustConfig(rooms=2, rir_seconds=0.1, rir_cache=str(tmp_path), room_seed=1), SR)
        != path
    )
    np.save(path, np.zeros((3, 5), np.float32))  # a file of the wrong shape: named, not replaced
    with pytest.raises(CorpusError, match=f"RIR bank '{path}' has shape"):
        reverb.rir_bank(cfg, SR)


def test_rir_folder_reads_resamples_and_skips_noises(tmp_path):
    rirs = tmp_path / "RIRS_NOISES"
    (rirs / "simulated_rirs" / "room1").mkdir(parents=True)
    (rirs / "pointsource_noises").mkdir()
    decay = np.exp(-np.arange(4000) / 400) * np.random.default_rng(0).standard_normal(4000)
    sf.write(rirs / "simulated_rirs" / "room1" / "a.wav", decay, SR, subtype="FLOAT")
    sf.write(
        rirs / "simulated_rirs" / "room1" / "b.wav", np.stack([decay[:2000]] * 2, 1), 8000
    )  # stereo, 8 kHz
    sf.write(rirs / "pointsource_noises" / "n.wav", np.ones(100), SR)  # a noise: not a RIR
    bank = reverb.rir_bank(RobustConfig(rir_folder=str(rirs), rir_seconds=0.2), SR)
    assert bank.shape == (2, 3200)
    np.testing.assert_allclose(bank[0], reverb.normalize_rir(decay, 3200), atol=1e-6)
    np.testing.assert_allclose(np.sum(bank.astype(np.float64) ** 2, axis=1), 1.0, rtol=1e-5)


def test_rir_and_noise_folder_errors_name_the_folder_or_file(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match=f"RIR folder '{missing}' does not exist"):
        reverb.rir_bank(RobustConfig(rir_folder=str(missing)), SR)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio")
    with pytest.raises(CorpusError, match=f"noise folder '{empty}' contains no audio files"):
        noise.load_noise_bank(RobustConfig(noise_folder=str(empty)), SR)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.wav").write_bytes(b"RIFF not really")
    with pytest.raises(CorpusError, match=f"noise file '{bad / 'x.wav'}' is unreadable"):
        noise.load_noise_bank(RobustConfig(noise_folder=str(bad)), SR)
    silent = tmp_path / "silent"
    silent.mkdir()
    sf.write(silent / "z.wav", np.zeros(100), SR)
    with pytest.raises(CorpusError, match="is empty, silent or not finite"):
        reverb.rir_bank(RobustConfig(rir_folder=str(silent)), SR)


# ---------------------------------------------------------------- noise


@pytest.mark.parametrize("slope", [0.0, 1.0, 2.0])
def test_colored_noise_spectrum_slope(slope):
    n = 8192
    runs = np.stack([noise.colored_noise(n, slope, tf.constant([s, 1], tf.int64)).numpy() for s in range(8)])
    assert np.mean(runs**2, axis=1) == pytest.approx(np.ones(8), rel=1e-4)  # unit power each
    power = np.mean(np.abs(np.fft.rfft(runs, axis=1)) ** 2, axis=0)
    f = np.fft.rfftfreq(n, 1 / SR)
    band = (f > 100) & (f < 7000)
    fitted = np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]  # log P = -slope log f + c
    assert fitted == pytest.approx(-slope, abs=0.05)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 13.0, 20.0])
def test_added_noise_has_the_requested_snr(snr):
    rng = np.random.default_rng(int(snr) + 10)
    x = (rng.standard_normal(4000) * 0.3).astype(np.float32)
    n = noise.colored_noise(4000, 1.0, SEED)
    y = noise.add_at_snr(x, n, snr).numpy()
    measured = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean((y - x).astype(np.float64) ** 2))
    assert measured == pytest.approx(snr, abs=1e-3)
    silent = np.zeros(100, np.float32)
    np.testing.assert_array_equal(noise.add_at_snr(silent, n[:100], snr).numpy(), silent)
    np.testing.assert_array_equal(scale_to_snr(x, tf.zeros(4000), snr).numpy(), np.zeros(4000))


def test_babble_sums_count_draws():
    def draw(seed):  # a constant row whose value says which draw it is
        return tf.fill([5], tf.cast(seed[0] % 1000 + 1, tf.float32))

    for count in (1, 3, 7):
        out = noise.babble(draw, tf.constant(count), SEED, 5).numpy()
        expected = sum(
            float(tf.random.experimental.stateless_fold_in(SEED, i)[0].numpy() % 1000 + 1)
            for i in range(count)
        )
        np.testing.assert_allclose(out, np.full(5, expected), rtol=1e-6)


def test_noise_segment_is_a_circular_slice_of_one_file():
    files = [np.arange(1, 11, dtype=np.float32), 100 + np.arange(30, dtype=np.float32)]
    bank = noise.NoiseBank(files)
    seen = set()
    for s in range(40):
        seg = noise.noise_segment(bank, 25, tf.constant([s, 3], tf.int64)).numpy()
        src = files[0] if seg[0] < 100 else files[1]
        start = int(np.flatnonzero(src == seg[0])[0])
        np.testing.assert_array_equal(seg, src[(start + np.arange(25)) % len(src)])
        seen.add(int(seg[0] >= 100))
    assert seen == {0, 1}


# ---------------------------------------------------------------- channel and codec


def test_band_limit_removes_energy_outside_the_band():
    x = np.random.default_rng(1).standard_normal(16000).astype(np.float32)
    low, high = 300.0, 3000.0
    y = channel.apply_response(x, lambda f: channel.band_response(f, low, high), SR).numpy()
    assert _band_power(y, 1.25 * high, 8000) < 1e-3 * _band_power(x, 1.25 * high, 8000)
    assert _band_power(y, 0, low / 1.25) < 1e-3 * _band_power(x, 0, low / 1.25)
    ratio = _band_power(y, 1.5 * low, high / 1.5) / _band_power(x, 1.5 * low, high / 1.5)
    assert 10 * np.log10(ratio) == pytest.approx(0.0, abs=0.2)
    # The magnitude is the Butterworth formula: -3 dB at each cut.
    f = np.array([low, high, 1000.0], np.float32)
    h = np.abs(channel.band_response(f, low, high).numpy())
    expected = 1 / np.sqrt((1 + (f / high) ** 32) * (1 + (low / f) ** 32))
    np.testing.assert_allclose(h, expected, rtol=1e-5)
    np.testing.assert_allclose(
        np.abs(channel.band_response(f, 0.0, high).numpy()), 1 / np.sqrt(1 + (f / high) ** 32), rtol=1e-5
    )


def _cookbook_peaking(f0: float, gain_db: float, q: float, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """The offline NumPy cookbook biquad of the corpus generator: independent of the in-graph EQ."""
    from speaker_tf.data.synth_channels import peaking_biquad

    return peaking_biquad(f0, gain_db, q, sr)


@pytest.mark.parametrize("f0,gain_db,q", [(1000.0, 9.0, 1.0), (250.0, -10.0, 3.0), (5000.0, 6.0, 0.5)])
def test_peaking_eq_is_the_cookbook_biquad(f0, gain_db, q):
    x = np.random.default_rng(2).standard_normal(4000).astype(np.float32)
    y = channel.apply_response(x, lambda f: channel.peaking_response(f, SR, f0, gain_db, q), SR).numpy()
    b, a = _cookbook_peaking(f0, gain_db, q)
    np.testing.assert_allclose(y, sps.lfilter(b, a, x.astype(np.float64)), atol=2e-3)
    h0 = channel.peaking_response(tf.constant([f0]), SR, f0, gain_db, q).numpy()[0]
    assert 20 * np.log10(np.abs(h0)) == pytest.approx(gain_db, abs=1e-3)


def test_eq_bands_in_series_are_the_cascade():
    x = np.random.default_rng(4).standard_normal(4000).astype(np.float32)
    f0, gain, q = [300.0, 2000.0, 6000.0], [6.0, -8.0, 4.0], [0.7, 2.0, 1.5]
    y = channel.apply_response(x, lambda f: channel.peaking_response(f, SR, f0, gain, q), SR).numpy()
    expected = x.astype(np.float64)
    for band in zip(f0, gain, q, strict=True):
        expected = sps.lfilter(*_cookbook_peaking(*band), expected)
    np.testing.assert_allclose(y, expected, atol=2e-3)


def test_tilt_gain_per_octave():
    n, slope = 16000, 2.5
    x = _sine(500.0, n) + _sine(2000.0, n)
    y = channel.apply_response(x, lambda f: channel.tilt_response(f, slope), SR).numpy()
    spec = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(n - 4000)))
    bins = np.fft.rfftfreq(n - 4000, 1 / SR)
    g500, g2000 = (spec[np.argmin(np.abs(bins - f))] for f in (500, 2000))
    assert 20 * np.log10(g2000 / g500) == pytest.approx(2 * slope, abs=0.05)  # two octaves apart
    h = np.abs(channel.tilt_response(np.array([1000.0, 4000.0], np.float32), slope).numpy())
    np.testing.assert_allclose(20 * np.log10(h), [0.0, 2 * slope], atol=1e-4)


def test_mu_law_round_trip_error_bound():
    mu, step = 255.0, 2 / 255
    x = np.linspace(-1, 1, 20001, dtype=np.float32)
    y = channel.mu_law(x).numpy().astype(np.float64)
    assert len(np.unique(y)) <= 256 and np.all(np.diff(y) >= 0)  # 8 bits, monotone
    # |x' - x| <= step / 2 * max |d F^-1 / dy| over the cell: F^-1(y) = ((1 + mu)^|y| - 1) / mu.
    fx = np.log1p(mu * np.abs(x)) / np.log1p(mu)
    bound = step / 2 * np.log1p(mu) / mu * (1 + mu) ** np.minimum(fx + step / 2, 1)
    assert np.all(np.abs(y - x) <= bound * (1 + 1e-4) + 1e-6)
    assert np.abs(y - x).max() > 0.5 * bound.max()  # the bound is tight, quantisation happened
    np.testing.assert_array_equal(channel.mu_law(np.array([3.0, -2.0], np.float32)).numpy(), [1.0, -1.0])


def test_a_law_round_trip_error_bound():
    a, step = 87.6, 2 / 255
    c = 1 + math.log(a)
    x = np.linspace(-1, 1, 20001, dtype=np.float32)
    y = channel.a_law(x).numpy().astype(np.float64)
    assert len(np.unique(y)) <= 256 and np.all(np.diff(y) >= 0)
    ax = np.abs(x) * a
    fx = np.where(ax < 1, ax, 1 + np.log(np.maximum(ax, 1))) / c
    # d F^-1 / dy = c / a on the linear segment, c / a * exp(|y| c - 1) on the logarithmic one.
    bound = step / 2 * c / a * np.maximum(1.0, np.exp(np.minimum(fx + step / 2, 1) * c - 1))
    assert np.all(np.abs(y - x) <= bound * (1 + 1e-4) + 1e-6)
    assert np.abs(y - x).max() > 0.5 * bound.max()


def test_telephone_band_and_narrowband():
    x = np.random.default_rng(3).standard_normal(16000).astype(np.float32) * 0.2
    y = channel.telephone(x, SR, SEED).numpy()
    assert y.shape == x.shape
    assert _band_power(y, 4100, 8000) < 1e-6 * _band_power(x, 4100, 8000)  # it went through 8 kHz
    assert _band_power(y, 0, 200) < 1e-2 * _band_power(x, 0, 200)
    ratio = _band_power(y, 500, 3000) / _band_power(x, 500, 3000)
    assert 10 * np.log10(ratio) == pytest.approx(0.0, abs=0.5)  # pass band kept (plus codec noise)
