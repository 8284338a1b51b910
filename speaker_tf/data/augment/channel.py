"""Channel and codec: band limiting, peaking EQ, spectral tilt, telephone band, G.711 companding.

Filters are frequency responses H(f) on the FFT grid of a zero-padded crop
(`apply_response`: the FFT length is >= 1.5 n, so the product is the linear,
not circular, convolution of the crop with H's impulse response, cut back to
n samples, as long as that response dies out within n / 2 samples either
side: 0.5 s for 1 s crops). Band limits and tilt are zero-phase magnitudes; the EQ is the
complex response of a causal biquad, so the result equals running the biquad
over the crop (up to the part of its impulse response longer than the pad).

* band limit: high-pass and low-pass with Butterworth magnitudes of order
  BAND_ORDER, |H|^2 = 1 / (1 + (f / f_c)^(2N)) (low-pass; (f_c / f) for the
  high-pass): -3 dB at the cut, -31 dB at 1.25 x the cut.
* peaking EQ: biquads of R. Bristow-Johnson's "Audio EQ Cookbook": gain g dB
  at f0, bandwidth set by Q.
* tilt: s dB per octave around TILT_REFERENCE Hz, flat below TILT_FLOOR Hz.
* telephone: 300-3400 Hz band (ITU-T G.712's pass band), resampled to
  8 kHz, G.711 companding there (mu-law or A-law), resampled back.
* companding: the continuous mu-law (mu = 255) or A-law (A = 87.6) of ITU-T
  G.711, the compressed value quantised uniformly to 2^bits levels on
  [-1, 1], then expanded. Input is clipped to [-1, 1] first, as a codec does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import tensorflow as tf

from speaker_tf.data.augment.ops import fft_length, fold, frequencies, resample, uniform

__all__ = [
    "A_LAW",
    "BAND_ORDER",
    "MU_LAW",
    "TELEPHONE_BAND",
    "TELEPHONE_RATE",
    "a_law",
    "apply_response",
    "band_response",
    "mu_law",
    "peaking_response",
    "telephone",
    "tilt_response",
]

BAND_ORDER = 16
TILT_REFERENCE, TILT_FLOOR = 1000.0, 50.0
TELEPHONE_BAND = (300.0, 3400.0)
TELEPHONE_RATE = 8000
MU_LAW, A_LAW = 255.0, 87.6

Response = Callable[[tf.Tensor], tf.Tensor]  # frequencies in Hz [F] -> complex64 [F]


def apply_response(x: tf.Tensor, response: Response, sample_rate: int) -> tf.Tensor:
    """x filtered by H = response(frequencies of the rfft bins), same length as x."""
    x = tf.convert_to_tensor(x, tf.float32)
    n = tf.shape(x)[0]
    n_fft = fft_length(n + n // 2)
    spectrum = tf.signal.rfft(x, n_fft[None]) * response(frequencies(n_fft, sample_rate))
    return tf.reshape(tf.signal.irfft(spectrum, n_fft[None])[:n], tf.shape(x))


def band_response(
    freqs: tf.Tensor, low: tf.Tensor | float, high: tf.Tensor | float, order: int = BAND_ORDER
) -> tf.Tensor:
    """Zero-phase Butterworth magnitudes: high-pass at `low` Hz (0 = none) times low-pass at `high` Hz."""
    freqs = tf.cast(freqs, tf.float32)
    low, high = tf.cast(low, tf.float32), tf.cast(high, tf.float32)
    lowpass = tf.math.rsqrt(1.0 + tf.pow(freqs / high, 2.0 * order))
    ratio = tf.where(low > 0.0, low / tf.maximum(freqs, 1e-3), 0.0)  # DC: huge ratio, gain 0
    highpass = tf.math.rsqrt(1.0 + tf.pow(ratio, 2.0 * order))
    return tf.complex(lowpass * highpass, 0.0)


def peaking_response(
    freqs: tf.Tensor,
    sample_rate: int,
    f0: tf.Tensor | float,
    gain_db: tf.Tensor | float,
    q: tf.Tensor | float,
) -> tf.Tensor:
    """Complex response at `freqs` Hz of cookbook peaking biquads (gain_db at f0, quality q).

    f0, gain_db and q are scalars or [B] vectors of B bands in series: the
    result is the product of their responses.
    """
    a = tf.pow(10.0, tf.reshape(tf.cast(gain_db, tf.float32), [-1, 1]) / 40.0)
    w0 = 2.0 * math.pi * tf.reshape(tf.cast(f0, tf.float32), [-1, 1]) / sample_rate
    alpha = tf.sin(w0) / (2.0 * tf.reshape(tf.cast(q, tf.float32), [-1, 1]))
    c1 = -2.0 * tf.cos(w0)  # the z^-1 coefficient of both polynomials
    w = 2.0 * math.pi * tf.cast(freqs, tf.float32)[None, :] / sample_rate
    cos1, sin1, cos2, sin2 = tf.cos(w), tf.sin(w), tf.cos(2.0 * w), tf.sin(2.0 * w)

    def poly(c0: tf.Tensor, c2: tf.Tensor) -> tf.Tensor:  # c0 + c1 e^{-jw} + c2 e^{-2jw}
        return tf.complex(c0 + c1 * cos1 + c2 * cos2, -(c1 * sin1 + c2 * sin2))

    ratio = poly(1.0 + alpha * a, 1.0 - alpha * a) / poly(1.0 + alpha / a, 1.0 - alpha / a)
    return tf.reduce_prod(ratio, axis=0)


def tilt_response(freqs: tf.Tensor, db_per_octave: tf.Tensor | float) -> tf.Tensor:
    """Zero-phase gain of db_per_octave x log2(f / TILT_REFERENCE) dB (f floored at TILT_FLOOR)."""
    octaves = tf.math.log(tf.maximum(tf.cast(freqs, tf.float32), TILT_FLOOR) / TILT_REFERENCE) / math.log(2.0)
    gain = tf.pow(10.0, tf.cast(db_per_octave, tf.float32) * octaves / 20.0)
    return tf.complex(gain, 0.0)


def _quantize(y: tf.Tensor, bits: int) -> tf.Tensor:
    """Uniform quantisation of y in [-1, 1] to 2^bits levels (both ends included)."""
    top = float(2**bits - 1)
    return tf.round((y + 1.0) * (top / 2.0)) * (2.0 / top) - 1.0


def mu_law(x: tf.Tensor, bits: int = 8, mu: float = MU_LAW) -> tf.Tensor:
    """x through a mu-law codec: compress, quantise to 2^bits levels, expand."""
    x = tf.clip_by_value(tf.convert_to_tensor(x, tf.float32), -1.0, 1.0)
    y = tf.sign(x) * tf.math.log1p(mu * tf.abs(x)) / math.log1p(mu)
    y = _quantize(y, bits)
    return tf.sign(y) * (tf.pow(1.0 + mu, tf.abs(y)) - 1.0) / mu


def a_law(x: tf.Tensor, bits: int = 8, a: float = A_LAW) -> tf.Tensor:
    """x through an A-law codec: compress, quantise to 2^bits levels, expand."""
    x = tf.clip_by_value(tf.convert_to_tensor(x, tf.float32), -1.0, 1.0)
    ax = tf.abs(x) * a
    denominator = 1.0 + math.log(a)
    y = tf.sign(x) * tf.where(ax < 1.0, ax, 1.0 + tf.math.log(tf.maximum(ax, 1.0))) / denominator
    y = _quantize(y, bits)
    ay = tf.abs(y) * denominator
    return tf.sign(y) * tf.where(ay < 1.0, ay, tf.exp(tf.minimum(ay, denominator) - 1.0)) / a


def telephone(x: tf.Tensor, sample_rate: int, seed: tf.Tensor) -> tf.Tensor:
    """300-3400 Hz band, at 8 kHz through mu-law or A-law (half each), back at `sample_rate`."""
    x = tf.convert_to_tensor(x, tf.float32)
    n = tf.shape(x)[0]
    y = apply_response(x, lambda f: band_response(f, *TELEPHONE_BAND), sample_rate)
    narrow = sample_rate > TELEPHONE_RATE
    if narrow:
        n_low = tf.maximum(
            tf.cast(tf.round(tf.cast(n, tf.float32) * (TELEPHONE_RATE / sample_rate)), tf.int32), 1
        )
        y = resample(y, n_low)
    y = tf.cond(uniform(fold(seed, 0)) < 0.5, lambda: mu_law(y), lambda: a_law(y))
    if narrow:
        y = resample(y, n)
    return tf.reshape(y, tf.shape(x))
