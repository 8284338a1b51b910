"""Additive noise at a drawn SNR: coloured noise, babble, and noise recordings from a folder.

SNR = 10 log10(P_signal / P_noise), both powers the mean square over the
crop (`ops.scale_to_snr`); a silent crop gets no noise.

* coloured: Gaussian noise whose power spectrum falls as f ** -slope
  (0 white, 1 pink, 2 brown; a random slope between), shaped in the
  frequency domain with the DC bin removed.
* babble: the sum of several other speakers' utterances (the pipeline
  supplies a function that draws one crop of another speaker), as the
  Kaldi recipe builds babble from MUSAN speech (Snyder et al., "X-vectors",
  ICASSP 2018: 3-7 speakers at 13-20 dB).
* folder: a random segment of a random noise recording (e.g. MUSAN noise),
  repeated end to end when shorter than the crop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from speaker_tf.config.data import RobustConfig
from speaker_tf.data.augment.datapp import _white_noise
from speaker_tf.data.augment.folders import read_audio
from speaker_tf.data.augment.ops import fold, scale_to_snr

__all__ = [
    "BabblePool",
    "NoiseBank",
    "add_at_snr",
    "babble",
    "babble_subset",
    "colored_noise",
    "load_noise_bank",
    "noise_segment",
]


def colored_noise(n: tf.Tensor | int, slope: tf.Tensor | float, seed: tf.Tensor) -> tf.Tensor:
    """n samples of zero-mean Gaussian noise with power spectrum ~ f ** -slope, unit power.

    Drawn in the frequency domain: independent complex Gaussian bins (the
    spectrum of white noise) scaled by f ** (-slope / 2), DC removed.
    """
    n = tf.cast(n, tf.int32)
    bins = n // 2 + 1
    parts = tf.reshape(_white_noise(2 * bins, seed), [2, bins])
    shape = tf.cast(tf.range(bins), tf.float32)
    shape = tf.where(shape > 0, tf.pow(tf.maximum(shape, 1.0), -tf.cast(slope, tf.float32) / 2.0), 0.0)
    y = tf.signal.irfft(tf.complex(parts[0] * shape, parts[1] * shape), n[None])
    return y * tf.math.rsqrt(tf.maximum(tf.reduce_mean(tf.square(y)), 1e-30))


def add_at_snr(x: tf.Tensor, noise: tf.Tensor, snr_db: tf.Tensor | float) -> tf.Tensor:
    """x + noise scaled to `snr_db` below x's power."""
    return x + scale_to_snr(x, noise, snr_db)


def babble(draw: Callable[[tf.Tensor], tf.Tensor], count: tf.Tensor, seed: tf.Tensor, n: int) -> tf.Tensor:
    """Sum of `count` crops `draw(seed_i)` (each another speaker's utterance), n samples."""

    def body(i: tf.Tensor, total: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return i + 1, total + tf.reshape(draw(fold(seed, i)), [n])

    _, total = tf.while_loop(
        lambda i, total: i < count, body, (tf.constant(0, tf.int32), tf.zeros([n], tf.float32))
    )
    return total


class NoiseBank:
    """Noise recordings in memory: flat float32 samples and int64 offsets [files + 1]."""

    def __init__(self, arrays: list[np.ndarray]):
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        self.offsets = tf.constant(np.concatenate([[0], np.cumsum(lengths)]), tf.int64)
        self.samples = tf.constant(np.concatenate(arrays).astype(np.float32))
        self.files = len(arrays)


def load_noise_bank(config: RobustConfig, sample_rate: int) -> NoiseBank:
    """The files of `config.noise_folder`, each peak-normalised (their level is set by the SNR)."""
    arrays = read_audio(
        config.noise_folder,
        "noise",
        sample_rate,
        config.max_noise_files,
        config.noise_seconds,
        seed=config.room_seed,
    )
    return NoiseBank([a / np.max(np.abs(a)) for a in arrays])


def noise_segment(bank: NoiseBank, n: int, seed: tf.Tensor) -> tf.Tensor:
    """n samples of a random file from a random offset, the file repeated end to end as needed."""
    index = tf.random.stateless_uniform([], fold(seed, 0), 0, bank.files, dtype=tf.int32)
    start, end = bank.offsets[index], bank.offsets[index + 1]
    length = tf.cast(end - start, tf.int32)
    offset = tf.random.stateless_uniform([], fold(seed, 1), 0, length, dtype=tf.int32)
    positions = tf.cast((offset + tf.range(n)) % length, tf.int64)
    return tf.gather(bank.samples, start + positions)


def babble_subset(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Indices of at most `limit` files, taken round-robin over speakers (rows) in a seeded order,
    so that every speaker has other speakers' files in the pool."""
    rng = np.random.default_rng(seed)
    per_row = [rng.permutation(np.flatnonzero(rows == r)) for r in np.unique(rows)]
    order = [files[i] for i in range(max(map(len, per_row))) for files in per_row if i < len(files)]
    return np.sort(np.array(order[:limit], dtype=np.int64))


class BabblePool:
    """Training utterances babble is made of: int16 samples, offsets [N + 1], peaks [N], rows [N]."""

    def __init__(self, samples: tf.Tensor, offsets: tf.Tensor, peaks: tf.Tensor, rows: np.ndarray):
        if len(np.unique(rows)) < 2:
            raise ValueError("a babble pool needs utterances of at least two speakers")
        self.samples, self.offsets, self.peaks = samples, offsets, peaks
        self.rows = tf.constant(np.asarray(rows, np.int32))

    def draw(self, seed: tf.Tensor, own: tf.Tensor, n: int) -> tf.Tensor:
        """n samples (a random window, zero-padded) of a random pool file of a speaker other than
        row `own`, divided by the file's peak."""
        others = tf.where(tf.not_equal(self.rows, own))[:, 0]
        pick = tf.random.stateless_uniform([], fold(seed, 0), 0, tf.shape(others)[0], dtype=tf.int32)
        index = others[pick]
        start = self.offsets[index]
        length = self.offsets[index + 1] - start
        offset = tf.random.stateless_uniform(
            [], fold(seed, 1), 0, tf.maximum(length - n, 0) + 1, dtype=tf.int64
        )
        window = tf.cast(self.samples[start + offset : start + tf.minimum(offset + n, length)], tf.float32)
        window = tf.pad(window, [[0, n - tf.shape(window)[0]]])
        return tf.math.divide_no_nan(tf.ensure_shape(window, [n]), self.peaks[index])
