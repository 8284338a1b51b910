"""Registered layers (front ends, pooling, heads, transformer parts) against NumPy references."""

from __future__ import annotations

from functools import partial

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import random_input, run_layer_test

from speaker_tf.config.model import HeadConfig
from speaker_tf.errors import ConfigError
from speaker_tf.models import (
    GLU,
    AttentiveStatisticsPooling,
    ClassToken,
    CosineDense,
    FirstToken,
    L2Normalize,
    LearnedPositionalEmbedding,
    LogCompression,
    LogMelSpectrogram,
    SincConv1D,
    SinusoidalPositionalEncoding,
    SpecAugment,
    StatisticsPooling,
)
from speaker_tf.models.frontends import apply_conv_subsampling, mel_filterbank
from speaker_tf.models.heads import apply_out_block
from speaker_tf.models.pooling import apply_time_pooling


# --------------------------------------------------------------------------- pooling
def test_statistics_pooling_matches_numpy():
    x = random_input((3, 7, 5))
    run_layer_test(StatisticsPooling(), (3, 7, 5), (3, 10), x=x, symbolic_shape=(None, 5))
    out = np.asarray(StatisticsPooling(epsilon=0.0)(x))
    np.testing.assert_allclose(out, np.concatenate([x.mean(1), x.std(1)], -1), rtol=1e-5, atol=1e-6)


def test_attentive_statistics_pooling():
    x = random_input((3, 7, 5))
    # params: hidden 5*4+4 = 24, score 4*1+1 = 5
    run_layer_test(AttentiveStatisticsPooling(units=4), (3, 7, 5), (3, 10), x=x, expected_num_params=29)
    layer = AttentiveStatisticsPooling(units=4, epsilon=0.0)
    out = np.asarray(layer(x))
    w1, b1 = layer.hidden.get_weights()
    w2, b2 = layer.score.get_weights()
    e = np.tanh(x @ w1 + b1) @ w2 + b2  # [B, T, 1]
    a = np.exp(e - e.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    mean = (a * x).sum(1)
    std = np.sqrt((a * (x - mean[:, None]) ** 2).sum(1))
    np.testing.assert_allclose(out, np.concatenate([mean, std], -1), rtol=1e-4, atol=1e-5)
    # a zero scorer attends uniformly: plain statistics pooling
    layer.score.set_weights([np.zeros_like(w2), np.zeros_like(b2)])
    np.testing.assert_allclose(layer(x), StatisticsPooling(epsilon=0.0)(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind, dim", [("avg", 6), ("max", 6), ("stats", 12), ("attentive_stats", 12)])
def test_time_pooling_flattens_2d_maps(kind, dim):
    # [B, T, F=3, C=2] -> [B, T, 6] -> pooled
    model = run_layer_test(
        partial(apply_time_pooling, kind=kind), (2, 5, 3, 2), (2, dim), fit=False, save=False
    )
    assert model.layers[1].name == "pooling_flatten_freq"


def test_unknown_pooling():
    with pytest.raises(ConfigError, match="model.pooling='median'"):
        apply_time_pooling(keras.Input((5, 3)), "median")


# --------------------------------------------------------------------------- small layers
def test_l2_normalize_and_glu():
    x = random_input((4, 6))
    model = run_layer_test(L2Normalize(), (4, 6), (4, 6), x=x)
    np.testing.assert_allclose(model(x), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5)
    model = run_layer_test(GLU(), (4, 6), (4, 3), x=x)
    np.testing.assert_allclose(model(x), x[:, :3] / (1 + np.exp(-x[:, 3:])), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- heads
def test_cosine_dense_outputs_cosines():
    x = random_input((4, 6))
    layer = CosineDense(3)
    # 6*3 = 18 parameters, no bias
    model = run_layer_test(layer, (4, 6), (4, 3), x=x, expected_num_params=18)
    w = layer.get_weights()[0]
    expected = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0, keepdims=True))
    np.testing.assert_allclose(model(x), expected, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(expected) <= 1.0)


@pytest.mark.parametrize(
    "kind, params, names",
    [
        # embedding 8, 5 speakers, hidden 6
        ("dense", 8 * 5 + 5, ["out_block_logits"]),
        ("act_dense", 8 * 5 + 5, ["out_block_act1", "out_block_logits"]),
        (
            "dense_act_dense",
            (8 * 6 + 6) + (6 * 5 + 5),
            ["out_block_dense1", "out_block_act1", "out_block_logits"],
        ),
        (
            "act_dense_act_dense",
            (8 * 6 + 6) + (6 * 5 + 5),
            ["out_block_act1", "out_block_dense1", "out_block_act2", "out_block_logits"],
        ),
        ("aam", 8 * 5, ["out_block_cosine"]),
    ],
)
def test_out_block_variants(kind, params, names):
    head = HeadConfig(kind=kind, hidden=6, dropout=0.5)
    builder = partial(
        apply_out_block, head=head, num_speakers=5, activation="prelu" if kind == "act_dense" else "relu"
    )
    model = run_layer_test(
        builder,
        (4, 8),
        (4, 5),
        expected_num_params=params + (8 if kind == "act_dense" else 0),
        save=kind in ("aam", "act_dense"),
        fit=kind == "aam",
    )
    layers = [layer.name for layer in model.layers[1:]]
    assert layers == names[:-1] + ["out_block_dropout", names[-1]]  # dropout right before the last layer


def test_out_block_bad_values():
    with pytest.raises(ConfigError, match="model.head.kind='softmax'"):
        apply_out_block(keras.Input((8,)), HeadConfig(kind="softmax"), 5, activation="relu")
    with pytest.raises(ConfigError, match="num_speakers=0"):
        apply_out_block(keras.Input((8,)), HeadConfig(), 0, activation="relu")


# --------------------------------------------------------------------------- front ends
def test_mel_filterbank_matches_tf_signal():
    ours = mel_filterbank(20, 512, 16000, 20.0, 8000.0)
    ref = tf.signal.linear_to_mel_weight_matrix(20, 257, 16000, 20.0, 8000.0).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_log_mel_matches_numpy_reference():
    sr, win, hop, n_mels = 16000, 256, 128, 16
    x = random_input((2, 1000))
    layer = LogMelSpectrogram(sample_rate=sr, n_mels=n_mels, win_length=win, hop_length=hop, mean_norm=True)
    # frames = 1 + 1000 // 128 = 8, variable length allowed
    model = run_layer_test(layer, (2, 1000), (2, 8, n_mels), x=x, symbolic_shape=(None,), fit=False)
    padded = np.pad(x, [(0, 0), (win // 2, win // 2)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic Hann
    frames = np.stack([padded[:, i * hop : i * hop + win] for i in range(8)], axis=1) * window
    power = np.abs(np.fft.rfft(frames, n=win, axis=-1)) ** 2
    ref = np.log(power @ mel_filterbank(n_mels, win, sr, 20.0, sr / 2) + 1e-6)
    ref -= ref.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(model(x), ref, atol=2e-3, rtol=1e-3)
    # a very short input still gives one frame
    assert tuple(layer(random_input((1, 10))).shape) == (1, 1, n_mels)


def test_spec_augment_masks_only_in_training():
    layer = SpecAugment(time_masks=2, time_mask_width=3, freq_masks=1, freq_mask_width=2, seed=3)
    run_layer_test(layer, (4, 20, 8), (4, 20, 8), symbolic_shape=(None, 8), fit=False)
    x = np.ones((64, 20, 8), "float32")
    np.testing.assert_array_equal(layer(x, training=False), x)
    out = np.asarray(layer(x, training=True))
    zero_rows = (out == 0).all(axis=2).sum(axis=1)  # fully masked time steps per example
    zero_cols = (out == 0).all(axis=1).sum(axis=1)  # fully masked mel bands
    assert zero_rows.max() <= 2 * 3 and zero_cols.max() <= 2
    assert zero_rows.sum() > 0 and zero_cols.sum() > 0
    # anything masked is a whole time row or a whole band
    masked = out == 0
    assert np.array_equal(masked, (out == 0).all(2, keepdims=True) | (out == 0).all(1, keepdims=True))


def test_sinc_conv_filters_are_band_passes():
    layer = SincConv1D(8, 101, strides=4)
    # 2 learned cut-offs per filter; 'same' padding with stride 4: ceil(400 / 4) = 100 frames
    run_layer_test(layer, (2, 400, 1), (2, 100, 8), symbolic_shape=(None, 1), expected_num_params=16)
    kernel = np.asarray(layer.kernel())[:, 0, :]  # [101, 8]
    np.testing.assert_allclose(kernel[50], 1.0, rtol=1e-5)  # centre tap normalised to 1
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-6)  # symmetric: linear phase
    low = 50.0 + np.abs(layer.low_hz.numpy())
    high = low + 50.0 + np.abs(layer.band_hz.numpy())
    response = np.abs(np.fft.rfft(kernel, n=4096, axis=0))
    freqs = np.fft.rfftfreq(4096, 1 / 16000)
    peak = freqs[response.argmax(axis=0)]
    assert np.all(peak >= low - 60) and np.all(peak <= high + 60), (peak, low, high)
    assert np.all(np.diff(low) > 0)  # mel-spaced, increasing
    with pytest.raises(ValueError, match="kernel_size must be odd.*100"):
        SincConv1D(8, 100)


def test_log_compression():
    x = random_input((2, 5, 3))
    model = run_layer_test(LogCompression(), (2, 5, 3), (2, 5, 3), x=x)
    np.testing.assert_allclose(model(x), np.log1p(np.abs(x)), rtol=1e-6)


def test_conv_subsampling():
    # [T=20, mel=16] -> two stride-2 3x3 convs with 4 channels: T 5, mel 4 -> flatten 16 -> dense 4
    # params: conv1 9*1*4+4 = 40, conv2 9*4*4+4 = 148, projection 16*4+4 = 68
    run_layer_test(
        partial(apply_conv_subsampling, factor=4, dim=4),
        (2, 20, 16),
        (2, 5, 4),
        symbolic_shape=(None, 16),
        expected_num_params=40 + 148 + 68,
        fit=False,
    )
    with pytest.raises(ValueError, match="power of 2, got 3"):
        apply_conv_subsampling(keras.Input((20, 16)), factor=3, dim=4)


# --------------------------------------------------------------------------- transformer parts
def test_sinusoidal_positional_encoding():
    x = np.zeros((2, 6, 4), "float32")
    model = run_layer_test(
        SinusoidalPositionalEncoding(), (2, 6, 4), (2, 6, 4), x=x, symbolic_shape=(None, 4)
    )
    t = np.arange(6)[:, None]
    i = np.arange(2)[None, :]
    angle = t / 10000 ** (2 * i / 4)
    ref = np.stack([np.sin(angle), np.cos(angle)], -1).reshape(6, 4)
    np.testing.assert_allclose(model(x)[0], ref, atol=1e-5)


def test_learned_positional_embedding_class_token_first_token():
    layer = LearnedPositionalEmbedding(10)
    x = random_input((2, 6, 4))
    model = run_layer_test(layer, (2, 6, 4), (2, 6, 4), x=x, symbolic_shape=(None, 4), expected_num_params=40)
    np.testing.assert_allclose(model(x), x + layer.get_weights()[0][None, :6], atol=1e-6)
    token = ClassToken()
    model = run_layer_test(token, (2, 6, 4), (2, 7, 4), x=x, symbolic_shape=(None, 4), expected_num_params=4)
    out = np.asarray(model(x))
    np.testing.assert_allclose(out[:, 1:], x)
    np.testing.assert_allclose(out[:, 0], np.broadcast_to(token.get_weights()[0][0], (2, 4)))
    model = run_layer_test(FirstToken(), (2, 6, 4), (2, 4), x=x)
    np.testing.assert_allclose(model(x), x[:, 0])
