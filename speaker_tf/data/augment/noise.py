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
from speaker_tf.data.augment.folders import read_audio
from speaker_tf.data.augment.ops import fold, scale_to_snr

__all__ = ["NoiseBank", "add_at_snr", "babble", "colored_noise", "load_noise_bank", "noise_segment"]


def colored_noise(n: tf.Tensor | int, slope: tf.Tensor | float, seed: tf.Tensor) -> tf.Tensor:
    """n samples of zero-mean noise with power spectrum ~ f ** -slope, unit power."""
    n = tf.cast(n, tf.int32)
    white = tf.random.stateless_normal(n[None], seed, dtype=tf.float32)
    bins = tf.cast(tf.range(n // 2 + 1), tf.float32)
    shape = tf.where(bins > 0, tf.pow(tf.maximum(bins, 1.0), -tf.cast(slope, tf.float32) / 2.0), 0.0)
    y = tf.signal.irfft(tf.signal.rfft(white, n[None]) * tf.complex(shape, 0.0), n[None])
    return y * tf.math.rsqrt(tf.maximum(tf.reduce_mean(tf.square(y)), 1e-20))


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
