"""Front-end options of issue 9: CMVN, band limits, VTLP, random spectral tilt, cepstra,
SpecAugment bounds; inference paths identical to no augmentation, also in an export."""

from __future__ import annotations

import dataclasses
import math
import re

import keras
import numpy as np
import pytest
from harness import check_one_step_fit, check_saved_model, random_input, run_layer_test
from scipy.fft import dct

from speaker_tf.config.model import FrontendConfig
from speaker_tf.errors import ConfigError
from speaker_tf.models import (
    Cepstra,
    LogMelSpectrogram,
    RandomSpectralTilt,
    SpecAugment,
    VtlpLogMelSpectrogram,
    build_encoder,
)
from speaker_tf.models.frontends import mel_filterbank, vtlp_warp

SR = 16000


def mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def sine(freq: float, samples: int = 4000, batch: int = 1) -> np.ndarray:
    x = np.sin(2 * np.pi * freq * np.arange(samples) / SR)
    return np.repeat(x[None, :], batch, axis=0).astype("float32")


# --------------------------------------------------------------------------- CMN / CMVN
def test_cmn_and_cmvn_per_band_statistics():
    x = random_input((2, 3200)) * np.linspace(0.1, 2.0, 3200, dtype="float32")  # loudness varies in time
    common = dict(sample_rate=SR, n_mels=16, win_length=400, hop_length=160)
    raw = np.asarray(LogMelSpectrogram(mean_norm=False, **common)(x), np.float64)
    cmn = np.asarray(LogMelSpectrogram(mean_norm=True, **common)(x))
    layer = LogMelSpectrogram(mean_norm=True, variance_norm=True, **common)
    cmvn = np.asarray(
        run_layer_test(layer, (2, 3200), (2, 21, 16), x=x, symbolic_shape=(None,), fit=False)(x)
    )
    np.testing.assert_allclose(cmn.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(cmvn.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(cmvn.std(axis=1), 1.0, atol=1e-4)
    centred = raw - raw.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(cmvn, centred / np.sqrt(centred.var(axis=1, keepdims=True) + 1e-5), atol=1e-4)
    # a silent crop stays finite (0), not NaN
    silent = np.asarray(layer(np.zeros((1, 800), "float32")))
    np.testing.assert_array_equal(silent, 0.0)
    with pytest.raises(ValueError, match=re.escape("variance_norm=True needs mean_norm=True")):
        LogMelSpectrogram(mean_norm=False, variance_norm=True)


def test_smooth_mean_norm_removes_only_the_means_first_cepstra():
    """mean_norm_smooth=N: the per-utterance mean loses exactly its first N DCT-II coefficients across bands
    (scipy's orthonormal DCT as the reference); a smooth EQ (level + tilt) added to every frame changes
    nothing, the finer shape of the long-term spectrum stays, and N = n_mels is plain CMN."""
    x = random_input((2, 3200)) * np.linspace(0.1, 2.0, 3200, dtype="float32")
    common = dict(sample_rate=SR, n_mels=16, win_length=400, hop_length=160)
    raw = np.asarray(LogMelSpectrogram(mean_norm=False, **common)(x), np.float64)
    layer = LogMelSpectrogram(mean_norm=True, mean_norm_smooth=3, **common)
    smooth = np.asarray(
        run_layer_test(layer, (2, 3200), (2, 21, 16), x=x, symbolic_shape=(None,), fit=False)(x)
    )
    mean_cepstra = dct(raw.mean(axis=1), type=2, norm="ortho", axis=-1)  # [2, 16]
    kept = mean_cepstra.copy()
    kept[:, :3] = 0.0
    expected_mean = dct(kept, type=3, norm="ortho", axis=-1)  # inverse of the orthonormal DCT-II
    np.testing.assert_allclose(smooth.mean(axis=1), expected_mean, atol=1e-4)
    # frame-to-frame changes are untouched: the output is the raw log-mel minus one vector per utterance
    np.testing.assert_allclose(
        smooth - smooth.mean(axis=1, keepdims=True), raw - raw.mean(1, keepdims=True), atol=1e-4
    )
    assert np.abs(expected_mean).max() > 0.05  # the finer long-term shape is really there, not all removed
    # a stationary EQ made of the first 3 cosines across the bands (level, tilt, curvature) changes nothing;
    # one of a finer cosine (band-to-band ripple) moves the output by exactly that ripple
    power = np.exp(np.random.default_rng(1).normal(size=(2, 21, 16))).astype("float32") + 1.0  # >> epsilon
    bands = np.arange(16) + 0.5
    smooth_eq = 0.7 + 0.4 * np.cos(np.pi * bands / 16) - 0.3 * np.cos(2 * np.pi * bands / 16)
    ripple = 0.2 * np.cos(5 * np.pi * bands / 16)
    base = np.asarray(layer.log_and_normalise(power))
    np.testing.assert_allclose(
        np.asarray(layer.log_and_normalise(power * np.exp(smooth_eq))), base, atol=1e-4
    )
    with_ripple = np.asarray(layer.log_and_normalise(power * np.exp(ripple)))
    np.testing.assert_allclose(with_ripple - base, np.broadcast_to(ripple, base.shape), atol=1e-4)
    full = np.asarray(LogMelSpectrogram(mean_norm=True, mean_norm_smooth=16, **common)(x))
    np.testing.assert_allclose(full, np.asarray(LogMelSpectrogram(mean_norm=True, **common)(x)), atol=1e-4)
    assert layer.get_config()["mean_norm_smooth"] == 3
    with pytest.raises(ValueError, match="mean_norm_smooth=3 needs mean_norm=True"):
        LogMelSpectrogram(mean_norm=False, mean_norm_smooth=3)
    with pytest.raises(ValueError, match="mean_norm_smooth=3 needs mean_norm=True and variance_norm=False"):
        LogMelSpectrogram(variance_norm=True, mean_norm_smooth=3)
    with pytest.raises(ValueError, match="mean_norm_smooth=17 exceeds n_mels=16"):
        LogMelSpectrogram(mean_norm_smooth=17, **common)
    with pytest.raises(ValueError, match="mean_norm_smooth must be an integer >= 0, got -1"):
        LogMelSpectrogram(mean_norm_smooth=-1)


def test_band_limits_keep_energy_inside_the_band():
    """min/max 100 / 4000 Hz: a 1 kHz tone peaks in its band; a 5 kHz one only leaks in (window sidelobes)."""
    layer = LogMelSpectrogram(sample_rate=SR, n_mels=20, min_freq=100.0, max_freq=4000.0, mean_norm=False)
    low = np.asarray(layer(sine(1000.0))).mean(axis=1)[0]
    high = np.asarray(layer(sine(5000.0))).mean(axis=1)[0]
    centres = np.linspace(mel(100.0), mel(4000.0), 22)[1:-1]
    assert low.argmax() == np.abs(centres - mel(1000.0)).argmin()
    assert high.max() < low.max() - math.log(10.0) * 2  # > 20 dB down
    full = LogMelSpectrogram(sample_rate=SR, n_mels=20, mean_norm=False)
    assert np.asarray(full(sine(5000.0))).max() > high.max() + math.log(10.0) * 2


# --------------------------------------------------------------------------- VTLP
def test_vtlp_warp_formula_by_hand():
    # nyquist 8000, boundary 4800. alpha 1.1: knee at 4800 / 1.1, above it the line to (8000, 8000):
    #   6000 -> 8000 - (8000 - 4800) / (8000 - 4363.64) * 2000 = 6240
    # alpha 0.9: knee at 4800 (-> 4320): 6000 -> 8000 - (8000 - 4320) / (8000 - 4800) * 2000 = 5700
    f = np.array([0.0, 1000.0, 6000.0, 8000.0])
    for alpha, expected in ((1.1, [0.0, 1100.0, 6240.0, 8000.0]), (0.9, [0.0, 900.0, 5700.0, 8000.0])):
        np.testing.assert_allclose(np.asarray(vtlp_warp(f, alpha, 4800.0, 8000.0)), expected, rtol=1e-6)
    grid = np.linspace(0.0, 8000.0, 801)
    for alpha in (0.8, 1.0, 1.2):
        warped = np.asarray(vtlp_warp(grid, alpha, 4800.0, 8000.0))
        assert np.all(np.diff(warped) > 0)  # monotone, hence continuous at the knee on this grid
    np.testing.assert_allclose(np.asarray(vtlp_warp(grid, 1.0, 4800.0, 8000.0)), grid)


def hand_warp(f: float, alpha: float, boundary: float = 4800.0, nyquist: float = SR / 2) -> float:
    """Jaitly & Hinton (2013) piecewise-linear warp, written out independently of the layer."""
    knee = boundary * min(alpha, 1.0) / alpha
    if f <= knee:
        return alpha * f
    return nyquist - (nyquist - boundary * min(alpha, 1.0)) / (nyquist - knee) * (nyquist - f)


@pytest.mark.parametrize("freq", [1000.0, 6000.0])  # below and above the knee
def test_vtlp_moves_a_sines_peak_band_as_the_formula_predicts(freq):
    layer = VtlpLogMelSpectrogram(warp=0.2, sample_rate=SR, n_mels=40, win_length=512, mean_norm=False)
    centres = np.linspace(mel(20.0), mel(SR / 2), 42)[1:-1]
    alphas = np.array([0.82, 0.9, 1.0, 1.1, 1.18], "float32")
    out = np.asarray(layer.warped(sine(freq, batch=len(alphas)), alphas[:, None]))
    peaks = out.mean(axis=1).argmax(axis=1)
    expected = [np.abs(centres - mel(hand_warp(freq, a))).argmin() for a in alphas]
    assert list(peaks) == expected
    assert len(set(expected)) >= 4  # the warp really moves the peak across bands
    # alpha = 1 is the unwarped filterbank
    np.testing.assert_allclose(
        np.asarray(layer.warped_filters(np.ones((1, 1), "float32")))[0],
        mel_filterbank(40, 512, SR, 20.0, SR / 2),
        atol=1e-4,
    )


def test_vtlp_random_in_training_identity_at_inference_and_seeded():
    common = dict(sample_rate=SR, n_mels=40, win_length=512)
    x = sine(1000.0, batch=32)
    plain = np.asarray(LogMelSpectrogram(**common)(x))
    layer = VtlpLogMelSpectrogram(warp=0.15, **common)
    run_layer_test(layer, (2, 4000), (2, 26, 40), symbolic_shape=(None,), fit=False)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), plain)
    peaks = np.asarray(layer(x, training=True)).argmax(axis=2)[:, 5]
    centres = np.linspace(mel(20.0), mel(SR / 2), 42)[1:-1]
    low, high = (np.abs(centres - mel(hand_warp(1000.0, a))).argmin() for a in (0.85, 1.15))
    assert peaks.min() >= low and peaks.max() <= high and len(set(peaks)) >= 3

    def draw(seed):
        keras.utils.set_random_seed(seed)
        return np.asarray(VtlpLogMelSpectrogram(warp=0.15, **common)(x, training=True))

    np.testing.assert_array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))
    with pytest.raises(ValueError, match=re.escape("warp must be in [0, 1), got 1.0")):
        VtlpLogMelSpectrogram(warp=1.0)
    with pytest.raises(ValueError, match=re.escape("boundary_hz must be in (0, 8000.0)")):
        VtlpLogMelSpectrogram(boundary_hz=9000.0)


# --------------------------------------------------------------------------- spectral tilt
def test_spectral_tilt_is_a_bounded_polynomial_per_utterance():
    layer = RandomSpectralTilt(max_db=4.0, order=2, seed=1)
    run_layer_test(layer, (2, 6, 10), (2, 6, 10), symbolic_shape=(None, 10), fit=False)
    x = random_input((64, 7, 10))
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    gain = np.asarray(layer(x, training=True), np.float64) - x
    np.testing.assert_allclose(gain, gain[:, :1, :].repeat(7, axis=1), atol=1e-5)  # same in every frame
    u = np.linspace(-1.0, 1.0, 10)
    db = math.log(10.0) / 10.0
    coefficients = []
    for curve in gain[:, 0, :] / db:
        c2, c1, c0 = np.polyfit(u, curve, 2)
        np.testing.assert_allclose(np.polyval([c2, c1, c0], u), curve, atol=1e-4)  # degree <= 2
        assert abs(c0) < 1e-4  # no overall gain
        coefficients.append((c1, c2))
    coefficients = np.array(coefficients)
    assert np.abs(coefficients).max() <= 4.0 + 1e-4
    assert np.abs(coefficients).max(axis=0).min() > 2.0  # both orders drawn over the range
    assert len(np.unique(np.round(coefficients, 4), axis=0)) == 64  # drawn per utterance
    # why it needs mean_norm=false: a per-utterance constant per band vanishes under CMN
    cmn = lambda v: v - v.mean(axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(cmn(x + gain), cmn(x), atol=1e-5)

    def draw(seed):
        keras.utils.set_random_seed(seed)
        return np.asarray(RandomSpectralTilt(3.0)(x, training=True))

    np.testing.assert_array_equal(draw(5), draw(5))
    assert not np.array_equal(draw(5), draw(6))
    with pytest.raises(ValueError, match=re.escape("order must be an integer >= 1, got 0")):
        RandomSpectralTilt(order=0)


# --------------------------------------------------------------------------- cepstra
def test_cepstra_match_scipy_dct_with_htk_lifter():
    x = random_input((2, 5, 12))
    layer = Cepstra(6, lifter=22.0)
    out = run_layer_test(layer, (2, 5, 12), (2, 5, 6), x=x, symbolic_shape=(None, 12), fit=False)(x)
    lifter = np.array([1 + 11.0 * math.sin(math.pi * n / 22.0) for n in range(6)])
    np.testing.assert_allclose(out, dct(x, type=2, norm="ortho", axis=-1)[..., :6] * lifter, atol=1e-5)
    full = np.asarray(Cepstra(12)(x))  # all coefficients, no lifter: orthonormal, invertible
    np.testing.assert_allclose((full**2).sum(-1), (x**2).sum(-1), rtol=1e-5)
    with pytest.raises(ValueError, match=re.escape("Cepstra coefficients=13 needs at least as many input")):
        Cepstra(13)(x)


# --------------------------------------------------------------------------- SpecAugment
def test_spec_augment_masks_are_runs_within_bounds_of_the_fill_value():
    x = random_input((400, 30, 12)) + 5.0  # never 0, the fill value
    time_only = np.asarray(SpecAugment(time_masks=1, time_mask_width=4, seed=0)(x, training=True))
    freq_only = np.asarray(SpecAugment(freq_masks=1, freq_mask_width=3, seed=0)(x, training=True))
    for out, axis, width in ((time_only, 1, 4), (freq_only, 2, 3)):
        masked = out == 0.0
        np.testing.assert_array_equal(out[~masked], x[~masked])  # the rest untouched
        lines = masked.all(axis=3 - axis)  # [example, index along the masked axis]
        assert np.array_equal(masked.any(axis=3 - axis), lines)  # whole rows / bands only
        widths = lines.sum(axis=1)
        assert set(widths) == set(range(width + 1))  # every width 0..W drawn, none wider
        for row in lines[widths > 0]:
            start = row.argmax()
            assert row[start : start + row.sum()].all()  # one contiguous run
    two = np.asarray(SpecAugment(time_masks=2, time_mask_width=4, seed=0)(x, training=True))
    assert (two == 0).all(axis=2).sum(axis=1).max() <= 8

    def draw(seed):
        keras.utils.set_random_seed(seed)
        return np.asarray(SpecAugment(time_masks=2, freq_masks=2)(x, training=True))

    np.testing.assert_array_equal(draw(1), draw(1))


# --------------------------------------------------------------------------- whole encoder
TINY_FE = FrontendConfig(kind="logmel", n_mels=16, cepstra=10, lifter=12.0, variance_norm=True)
AUGMENTED_FE = dataclasses.replace(
    TINY_FE, vtlp_warp=0.1, time_masks=1, time_mask_width=3, freq_masks=1, freq_mask_width=2
)


def tiny_model_config(frontend: FrontendConfig):
    from test_models_networks import TINY

    return dataclasses.replace(TINY, frontend=frontend)


def encoders_with_and_without_augmentation(frontend: FrontendConfig, plain: FrontendConfig):
    augmented = build_encoder(tiny_model_config(frontend), 4000)
    reference = build_encoder(tiny_model_config(plain), 4000)
    reference.set_weights(augmented.get_weights())
    return augmented, reference


@pytest.mark.parametrize(
    "frontend, plain",
    [
        (AUGMENTED_FE, TINY_FE),
        (
            dataclasses.replace(TINY_FE, variance_norm=False, mean_norm=False, tilt_db=3.0, max_freq=4000.0),
            dataclasses.replace(TINY_FE, variance_norm=False, mean_norm=False, max_freq=4000.0),
        ),
    ],
    ids=["vtlp_cmvn_specaugment_cepstra", "tilt_band_limited"],
)
def test_encoder_inference_is_the_unaugmented_encoder(frontend, plain):
    augmented, reference = encoders_with_and_without_augmentation(frontend, plain)
    x = random_input((3, 4000))
    np.testing.assert_array_equal(np.asarray(augmented(x)), np.asarray(reference(x)))
    assert not np.allclose(np.asarray(augmented(x, training=True)), np.asarray(reference(x, training=True)))
    check_saved_model(augmented, x)
    check_one_step_fit(augmented, x)  # gradients flow through the augmented front end


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"variance_norm": True}, "model.frontend.variance_norm=True needs model.frontend.kind='logmel'"),
        (
            {"kind": "logmel", "max_freq": 9000.0},
            "min_freq=20.0 and model.frontend.max_freq=9000.0 need 0 <= min_freq < max_freq <= 8000",
        ),
        ({"kind": "logmel", "min_freq": 500.0, "max_freq": 400.0}, "min_freq=500.0 and"),
        (
            {"kind": "logmel", "mean_norm": False, "variance_norm": True},
            "variance_norm=True needs model.frontend.mean_norm=True",
        ),
        (
            {"kind": "logmel", "vtlp_warp": 1.0},
            "model.frontend.vtlp_warp=1.0 is out of range: it must be in [0, 1)",
        ),
        (
            {"kind": "logmel", "vtlp_warp": 0.1, "vtlp_boundary_hz": 8000.0},
            "model.frontend.vtlp_boundary_hz=8000.0 must be in (0, 8000)",
        ),
        ({"kind": "logmel", "tilt_db": 2.0}, "model.frontend.tilt_db=2.0 has no effect with"),
        ({"mean_norm_smooth": 3}, "model.frontend.mean_norm_smooth=3 needs model.frontend.kind='logmel'"),
        (
            {"kind": "logmel", "mean_norm": False, "mean_norm_smooth": 3},
            "mean_norm_smooth=3 needs model.frontend.mean_norm=True and model.frontend.variance_norm=False",
        ),
        (
            {"kind": "logmel", "variance_norm": True, "mean_norm_smooth": 3},
            "mean_norm_smooth=3 needs model.frontend.mean_norm=True and model.frontend.variance_norm=False",
        ),
        (
            {"kind": "logmel", "mean_norm_smooth": 17},
            "model.frontend.mean_norm_smooth=17 must be <= model.frontend.n_mels=16",
        ),
        (
            {"kind": "logmel", "tilt_db": 2.0, "mean_norm": False, "tilt_order": 0},
            "tilt_order=0 is out of range",
        ),
        ({"kind": "logmel", "cepstra": 17}, "model.frontend.cepstra=17 must be <= model.frontend.n_mels=16"),
        ({"kind": "logmel", "lifter": 22.0}, "model.frontend.lifter=22.0 needs model.frontend.cepstra > 0"),
    ],
)
def test_front_end_option_errors_name_key_and_value(changes, message):
    frontend = dataclasses.replace(FrontendConfig(n_mels=16), **changes)
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_encoder(tiny_model_config(frontend), 4000)


@pytest.mark.slow  # two SavedModel exports
def test_export_of_augmented_encoder_serves_the_unaugmented_graph(tmp_path):
    """The TF Serving export carries no random op: same op set and outputs as without augmentation."""
    import tensorflow as tf

    from speaker_tf.export.graph_ops import saved_model_ops, unservable_ops
    from speaker_tf.export.saved_model import export_encoder

    augmented, reference = encoders_with_and_without_augmentation(
        dataclasses.replace(AUGMENTED_FE, mean_norm=False, variance_norm=False, tilt_db=2.0),
        dataclasses.replace(TINY_FE, mean_norm=False, variance_norm=False),
    )
    kw = dict(
        threshold=0.5, val_eer=0.1, min_samples=augmented.min_samples, window_seconds=0.25, hop_seconds=0.25
    )
    paths = [export_encoder(m, tmp_path, name, **kw) for m, name in ((augmented, "aug"), (reference, "ref"))]
    ops = [saved_model_ops(path) for path in paths]
    assert ops[0] == ops[1] and unservable_ops(ops[0]) == []
    assert not {op for op in ops[0] if "Random" in op}
    x = random_input((2, 4000))
    x /= np.abs(x).max(axis=1, keepdims=True)  # the export peak-normalises each row
    served = tf.saved_model.load(str(paths[0])).signatures["serving_default"](waveform=tf.constant(x))
    expected = np.array(augmented(x))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(served["embedding"].numpy(), expected, atol=1e-5)


# --------------------------------------------------------------------------- long-term spectrum branch


def _long_term_spectrum_encoder(smooth: int):
    frontend = FrontendConfig(kind="logmel", n_mels=16, mean_norm=True, mean_norm_smooth=smooth)
    config = dataclasses.replace(tiny_model_config(frontend), long_term_spectrum=True)
    encoder = build_encoder(config, 4000)
    probe = keras.Model(
        encoder.input,
        [encoder.get_layer(name).output for name in ("frontend_to_image", "long_term_spectrum_norm")],
    )
    return encoder, probe


def test_long_term_spectrum_is_the_time_mean_of_the_normalised_log_mel():
    """The branch = mean over frames of the front end's output, through a fresh BatchNorm (x / sqrt(1 + eps)
    at inference); it reaches the FC block beside the pooled features; with full CMN it is zero."""
    encoder, probe = _long_term_spectrum_encoder(smooth=3)
    x = random_input((3, 4000)) * np.linspace(0.2, 1.0, 4000, dtype="float32")  # a level that moves
    image, branch = (np.asarray(v) for v in probe(x, training=False))
    eps = encoder.get_layer("long_term_spectrum_norm").epsilon
    np.testing.assert_allclose(branch, image[..., 0].mean(axis=1) / np.sqrt(1 + eps), atol=1e-5)
    assert np.abs(branch).max() > 0.05  # smooth-only CMN leaves the fine shape of the mean
    pooled = encoder.get_layer("pooling").output.shape[-1]
    assert encoder.get_layer("pooling_with_spectrum").output.shape[-1] == pooled + 16
    _, full_cmn = _long_term_spectrum_encoder(smooth=0)
    np.testing.assert_allclose(np.asarray(full_cmn(x, training=False)[1]), 0.0, atol=1e-4)
    check_saved_model(encoder, x)
    check_one_step_fit(encoder, x)
    # the embedding uses it: changing only the long-term spectrum's BatchNorm shift changes the output
    norm = encoder.get_layer("long_term_spectrum_norm")
    before = np.asarray(encoder(x, training=False))
    gamma, beta, mean, var = norm.get_weights()
    norm.set_weights([gamma, beta + 1.0, mean, var])
    assert not np.allclose(np.asarray(encoder(x, training=False)), before)


@pytest.mark.parametrize(
    "network, kind, message",
    [
        (
            "seresnet",
            "raw",
            "model.long_term_spectrum=True needs model.network='seresnet' and "
            "model.frontend.kind='logmel' (got 'seresnet' and 'raw')",
        ),
        ("densenet", "logmel", "(got 'densenet' and 'logmel')"),
    ],
)
def test_long_term_spectrum_needs_a_log_mel_seresnet(network, kind, message):
    config = dataclasses.replace(
        tiny_model_config(FrontendConfig(kind=kind, n_mels=16)), network=network, long_term_spectrum=True
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_encoder(config, 4000)
