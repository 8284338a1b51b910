"""Corpus channels: each kind measured on a signal whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_tf.data import synth_channels as sc

SR = 16000


def _sine(freq: float, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR)


def _gain_db(kind_params: dict, freq: float) -> float:
    x = _sine(freq)
    y = sc.channel_transform(x, kind_params, SR)
    core = slice(SR // 4, 3 * SR // 4)  # away from filter transients
    return 10 * np.log10(max(np.mean(y[core] ** 2), 1e-30) / np.mean(x[core] ** 2))


def test_telephone_passes_the_voice_band_only():
    ch = {"kind": "telephone", "low_hz": 300.0, "high_hz": 3400.0}
    assert abs(_gain_db(ch, 1000.0)) < 0.5
    assert _gain_db(ch, 5000.0) < -60  # above the 4 kHz Nyquist of 8 kHz sampling
    assert _gain_db(ch, 100.0) < -30


def test_companding_quantises_to_8_bits_with_bounded_relative_error():
    x = np.linspace(-1, 1, 20001)
    for law in (sc.mu_law, sc.a_law):
        y = law(x)
        assert len(np.unique(y)) <= 256
        assert np.all(np.diff(y) >= 0)  # monotonic
        big = np.abs(x) > 0.05
        assert np.max(np.abs(y - x)[big] / np.abs(x[big])) < 0.04  # ~3 % steps of a log quantiser
        assert np.max(np.abs(y - x)) < 0.025  # half a step at full scale


def test_file_noise_is_at_the_recorded_snr():
    x = _sine(440.0)
    ch = sc.random_channel("noise", np.random.default_rng(0))
    y, noise = sc.apply_channel(x, ch, SR, np.random.default_rng(1))
    measured = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
    assert 5 <= noise["snr_db"] <= 20 and abs(measured - noise["snr_db"]) < 1e-9


def test_room_reverberation_decays_at_the_set_rt60():
    impulse = np.zeros(SR * 2)
    impulse[100] = 1.0
    ch = {"kind": "room", "rt60_s": 0.5, "drr_db": 6.0, "tilt": 0.0, "ir_seed": 3}
    h = sc.channel_transform(impulse, ch, SR)[101:]
    energy = np.cumsum(h[::-1] ** 2)[::-1]  # Schroeder backward integration
    t = np.arange(h.size) / SR
    fit = (t > 0.05) & (t < 0.35)
    slope_db_per_s = np.polyfit(t[fit], 10 * np.log10(energy[fit]), 1)[0]
    assert abs(-60 / slope_db_per_s - 0.5) < 0.05
    assert abs(10 * np.log10(1.0 / np.sum(h**2)) - 6.0) < 0.01  # direct-to-reverberant ratio


def test_eq_peaks_at_its_centre():
    ch = {"kind": "eq", "tilt": 0.0, "eq": [[1000.0, 8.0, 1.0], [4000.0, 0.0, 1.0]]}
    assert abs(_gain_db(ch, 1000.0) - 8.0) < 0.1
    assert abs(_gain_db(ch, 60.0)) < 0.3


def test_codec_drops_weak_bins_and_high_frequencies():
    ch = {"kind": "codec", "cutoff_hz": 6000.0, "floor_db": 35.0}
    strong, weak = _sine(500.0), _sine(2500.0, amp=0.5 * 10 ** (-50 / 20))
    y = sc.channel_transform(strong + weak, ch, SR)
    spectrum = np.abs(np.fft.rfft(y[SR // 4 : 3 * SR // 4]))  # 2 Hz bins
    assert spectrum[1250] < 0.05 * np.abs(np.fft.rfft(weak[SR // 4 : 3 * SR // 4]))[1250]
    assert _gain_db(ch, 500.0) > -0.5 and _gain_db(ch, 7500.0) < -20


def test_heldout_kinds():
    clip = sc.channel_transform(_sine(300.0), {"kind": "distortion", "drive": 8.0}, SR)
    assert np.max(np.abs(clip)) <= 1.0
    spectrum = np.abs(np.fft.rfft(clip[SR // 4 : 3 * SR // 4]))
    assert spectrum[450] > 0.1 * spectrum[150]  # a strong 3rd harmonic (900 Hz)
    assert _gain_db({"kind": "muffled", "cutoff_hz": 1500.0}, 6000.0) < -25
    ch = {"kind": "voip", "loss": 0.2, "loss_seed": 1}
    y = sc.channel_transform(_sine(1000.0, seconds=4.0), ch, SR)
    packets = y[: y.size // 320 * 320].reshape(-1, 320)
    silent = np.mean(np.max(np.abs(packets), axis=1) == 0.0)
    assert 0.12 < silent < 0.28


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown channel kind 'radio'"):
        sc.random_channel("radio", np.random.default_rng(0))
