"""Stateless random draws and FFT helpers shared by the augmentation modules.

Every random draw is keyed by an explicit seed tensor of shape [2]
(`tf.random.stateless_*`), so one element seed fixes an augmented sample
regardless of parallelism; `fold` derives independent sub-seeds by salt.
"""

from __future__ import annotations

import math

import tensorflow as tf

__all__ = [
    "fft_length",
    "fold",
    "frequencies",
    "log_uniform",
    "power",
    "resample",
    "scale_to_snr",
    "uniform",
]


def fold(seed: tf.Tensor, salt: int | tf.Tensor) -> tf.Tensor:
    """An independent seed derived from `seed` and `salt`."""
    return tf.random.experimental.stateless_fold_in(seed, salt)


def uniform(seed: tf.Tensor, low: float | tf.Tensor = 0.0, high: float | tf.Tensor = 1.0) -> tf.Tensor:
    """A scalar float32 uniform on [low, high)."""
    u = tf.random.stateless_uniform([], seed, dtype=tf.float32)
    low = tf.cast(low, tf.float32)
    return low + (tf.cast(high, tf.float32) - low) * u


def log_uniform(seed: tf.Tensor, low: float, high: float, shape: tuple[int, ...] = ()) -> tf.Tensor:
    """float32 values whose logarithm is uniform on [log low, log high) (low, high > 0)."""
    return tf.exp(tf.random.stateless_uniform(shape, seed, math.log(low), math.log(high), dtype=tf.float32))


def fft_length(n: tf.Tensor | int) -> tf.Tensor:
    """Smallest length >= n of the form 2^k, 3 x 2^k or 5 x 2^k (fast FFT sizes), as int32."""
    n = tf.maximum(tf.cast(n, tf.float64), 1.0)
    sizes = tf.stack(
        [m * 2.0 ** tf.math.ceil(tf.math.log(tf.maximum(n / m, 1.0)) / math.log(2.0)) for m in (1, 3, 5)]
    )
    sizes = tf.where(sizes < n, 2.0 * sizes, sizes)  # a logarithm rounded down
    return tf.cast(tf.reduce_min(sizes), tf.int32)


def frequencies(n_fft: tf.Tensor | int, sample_rate: int) -> tf.Tensor:
    """Centre frequency in Hz of each `rfft` bin of an n_fft-point FFT: [n_fft // 2 + 1]."""
    n_fft = tf.cast(n_fft, tf.int32)
    bins = tf.cast(tf.range(n_fft // 2 + 1), tf.float32)
    return bins * (float(sample_rate) / tf.cast(n_fft, tf.float32))


def power(x: tf.Tensor) -> tf.Tensor:
    """Mean square of a signal (its power)."""
    return tf.reduce_mean(tf.square(x))


def scale_to_snr(signal: tf.Tensor, noise: tf.Tensor, snr_db: tf.Tensor | float) -> tf.Tensor:
    """`noise` scaled so that 10 log10(power(signal) / power(noise)) = snr_db.

    Silent signal or silent noise: zeros (nothing to scale against).
    """
    target = power(signal) * tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0)
    return noise * tf.sqrt(tf.math.divide_no_nan(target, power(noise)))


def resample(x: tf.Tensor, n_out: tf.Tensor | int) -> tf.Tensor:
    """Band-limited resampling of a 1-D signal to `n_out` samples over the same time span.

    The spectrum is truncated or zero-padded (the FFT method, as
    scipy.signal.resample): the result keeps every frequency below both
    Nyquist limits and removes the rest (the shorter signal's Nyquist bin too,
    which no real-valued band-limited signal can represent unambiguously).
    The signal is treated as periodic, so its two ends ring a little when they
    differ.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    n_in = tf.shape(x)[0]
    n_out = tf.cast(n_out, tf.int32)
    spectrum = tf.signal.rfft(x, fft_length=n_in[None])
    kept = (tf.minimum(n_in, n_out) + 1) // 2  # bins 0 .. kept-1, never a Nyquist bin
    spectrum = tf.pad(spectrum[:kept], [[0, n_out // 2 + 1 - kept]])
    scale = tf.cast(n_out, tf.float32) / tf.cast(n_in, tf.float32)
    return tf.signal.irfft(spectrum, fft_length=n_out[None]) * scale
