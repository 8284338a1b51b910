"""MFCC baseline: hand-checkable MFCC properties and a real EER on the tiny corpus."""

from __future__ import annotations

import argparse

import numpy as np

from speaker_tf.cli import baseline as baseline_cli
from speaker_tf.data.baseline import baseline_eer, hz_to_mel, mel_filterbank, mel_to_hz, mfcc, mfcc_stats


def test_mel_scale_round_trip_and_known_value():
    assert abs(float(hz_to_mel(700.0)) - 2595 * np.log10(2)) < 1e-9
    f = np.array([0.0, 100.0, 1000.0, 7999.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)


def test_filterbank_is_a_partition_of_unity():
    fb = mel_filterbank(512, 16000, 40)
    assert fb.shape == (40, 257) and fb.min() >= 0 and fb.max() <= 1 + 1e-12
    freqs = np.arange(257) * 16000 / 512
    edges = mel_to_hz(np.linspace(0, hz_to_mel(8000), 42))
    inside = (freqs >= edges[1]) & (freqs <= edges[-2])
    # Between the first and last centre frequency, overlapping triangles sum to 1.
    np.testing.assert_allclose(fb[:, inside].sum(axis=0), 1.0, atol=1e-9)
    # Each filter peaks at its centre: the centres rise monotonically.
    assert np.all(np.diff(np.argmax(fb, axis=1)) >= 0)


def test_mfcc_of_silence_is_dct_of_a_constant():
    # Silence -> every log-mel energy is log(1e-10); an orthonormal DCT-II of a
    # constant c over 40 bands is [c * sqrt(40), 0, 0, ...].
    c = mfcc(np.zeros(16000), 16000)
    assert c.shape == (1 + (16000 - 400) // 160, 20)
    np.testing.assert_allclose(c[:, 0], np.log(1e-10) * np.sqrt(40), rtol=1e-12)
    np.testing.assert_allclose(c[:, 1:], 0.0, atol=1e-9)


def test_mfcc_stats_shape_and_gain_invariance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000) * np.hanning(16000)
    a, b = mfcc_stats(x), mfcc_stats(0.01 * x)  # peak-normalised first: gain is not a cue
    assert a.shape == (40,)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_baseline_separates_tiny_corpus_voices(tiny_corpus, capsys):
    for split in ("val", "test"):
        eer = baseline_eer(tiny_corpus / split / "trials.txt", tiny_corpus / split, workers=1)
        assert 0.0 <= eer < 0.35, (split, eer)
    parser = argparse.ArgumentParser()
    baseline_cli.add_arguments(parser)
    args = parser.parse_args(
        [
            "--trials",
            str(tiny_corpus / "test" / "trials.txt"),
            "--root",
            str(tiny_corpus / "test"),
            "--workers",
            "1",
        ]
    )
    assert baseline_cli.run(args) == 0
    assert "EER" in capsys.readouterr().out
