"""What the recipes' augmentation applies, with which probability, in which order.

`robust_augment` takes one training crop through a fixed chain, each stage
drawn independently with its probability in `RobustConfig`, like a sound
travelling from a talker to a recording:

0. voice colour (voice_colour_bands > 0): the crop's speaker label's own
   fixed peaking-EQ filter, the same for every crop of that label;
1. reverberation (p_reverb): a uniformly drawn RIR of the bank;
2. additive noise (p_noise): coloured, babble or folder noise, the kind drawn
   with the relative weights of the kinds available, at an SNR drawn
   uniformly from that kind's range; then a crop whose peak now exceeds 1 is
   scaled to peak 1, the range of the peak-normalised input (so the codecs'
   clipping at +-1 does not distort reverberant or noisy crops);
3. channel: band limit (p_band), peaking EQ (p_eq), tilt (p_tilt), drawn
   independently and applied as one filter;
4. telephone band with G.711 at 8 kHz (p_telephone);
5. companding at the full rate (p_codec).

Speed perturbation happens before all this, when the pipeline cuts the crop,
because it changes the label (speed.py). Every draw is stateless, keyed by
the element's seed (the voice colour by room_seed and the label), so a seed
and a label fix the augmented crop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from speaker_tf.config.data import RobustConfig
from speaker_tf.data.augment import channel, noise, reverb, speed
from speaker_tf.data.augment.ops import fold, log_uniform, uniform
from speaker_tf.errors import ConfigError

__all__ = [
    "Sources",
    "build_sources",
    "check_config",
    "robust_augment",
    "speed_factors",
    "voice_colour_response",
]

# Salts of each stage's seed.
_REVERB, _NOISE, _CHANNEL, _TELEPHONE, _CODEC = range(1, 6)
_BAND, _EQ, _TILT = range(1, 4)  # within the channel stage
EQ_FREQUENCY = (80.0, 0.4)  # peaking centre frequencies: log-uniform from 80 Hz to 0.4 x sample rate
VOICE_FREQUENCY = (150.0, 0.4)  # the voice colour's centres: 150 Hz to 0.4 x sample rate
_VOICE_SALT = 7919  # folded into room_seed: the voice colours do not repeat the room bank's draws


@dataclass(frozen=True)
class Sources:
    """What the graph draws from: the RIR bank [R, L], the noise bank, and babble's crop drawer."""

    rirs: tf.Tensor | None = None
    noises: noise.NoiseBank | None = None
    other: Callable[[tf.Tensor], tf.Tensor] | None = None  # seed -> crop of another speaker


def speed_factors(config: RobustConfig) -> tuple[float, ...]:
    """The speed factors in use: (1.0,) when the section is off."""
    return tuple(config.speed_factors) if config.enabled else (1.0,)


def _check_range(name: str, low: float, high: float, floor: float = 0.0) -> None:
    if not floor <= low <= high:
        raise ConfigError(f"need {floor} <= data.robust.{name}_min <= {name}_max, got {low!r}, {high!r}")


def check_config(config: RobustConfig, sample_rate: int) -> None:
    """ConfigError naming the first impossible value of the section."""
    try:
        speed.check_factors(config.speed_factors)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    for name in ("p_reverb", "p_noise", "p_band", "p_eq", "p_tilt", "p_telephone", "p_codec"):
        value = getattr(config, name)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"data.robust.{name} must be a probability in [0, 1], got {value!r}")
    for name in (
        "colored_weight",
        "babble_weight",
        "folder_weight",
        "eq_gain_db",
        "tilt_db",
        "voice_colour_db",
    ):
        if getattr(config, name) < 0:
            raise ConfigError(f"data.robust.{name} must be >= 0, got {getattr(config, name)!r}")
    for name in ("rooms", "max_rirs", "max_noise_files", "babble_min", "babble_files"):
        if getattr(config, name) < 1:
            raise ConfigError(f"data.robust.{name} must be >= 1, got {getattr(config, name)!r}")
    _check_range("noise_slope", config.noise_slope_min, config.noise_slope_max)
    _check_range("snr", config.snr_min, config.snr_max, -math.inf)
    _check_range("babble_snr", config.babble_snr_min, config.babble_snr_max, -math.inf)
    _check_range("babble", config.babble_min, config.babble_max, 1)
    _check_range("eq_q", config.eq_q_min, config.eq_q_max, 1e-3)
    _check_range("rt60", config.rt60_min, config.rt60_max, 1e-3)
    nyquist = sample_rate / 2
    _check_range("low_cut", config.low_cut_min, config.low_cut_max)
    _check_range("high_cut", config.high_cut_min, config.high_cut_max, 1.0)
    if config.high_cut_max >= nyquist or config.low_cut_max >= config.high_cut_min:
        raise ConfigError(
            "need data.robust.low_cut_max < high_cut_min and high_cut_max < sample_rate / 2 "
            f"({nyquist:g} Hz), got {config.low_cut_max!r}, {config.high_cut_min!r}, {config.high_cut_max!r}"
        )
    for name in ("eq_bands", "voice_colour_bands"):
        if getattr(config, name) < 0:
            raise ConfigError(f"data.robust.{name} must be >= 0, got {getattr(config, name)!r}")
    if config.rir_seconds <= 0 or config.noise_seconds <= 0:
        raise ConfigError(
            f"data.robust.rir_seconds and noise_seconds must be > 0, got "
            f"{config.rir_seconds!r}, {config.noise_seconds!r}"
        )


def build_sources(
    config: RobustConfig, sample_rate: int, other: Callable[[tf.Tensor], tf.Tensor] | None = None
) -> Sources:
    """Load (or simulate and cache) the banks the enabled stages need; validates the config first.

    `other` draws babble's crops (the pipeline sets it per example, see BabblePool).
    """
    check_config(config, sample_rate)
    rirs = None
    if config.p_reverb > 0:
        rirs = tf.constant(reverb.rir_bank(config, sample_rate))
    noises = None
    if config.p_noise > 0 and config.folder_weight > 0 and config.noise_folder is not None:
        noises = noise.load_noise_bank(config, sample_rate)
    return Sources(rirs, noises, other if config.babble_weight > 0 else None)


def _maybe(
    seed: tf.Tensor, p: float, x: tf.Tensor, fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
) -> tf.Tensor:
    """fn(x, seed') with probability p (both drawn from `seed`), else x; no graph at all when p == 0."""
    if p <= 0.0:
        return x
    return tf.cond(
        uniform(fold(seed, 0)) < p, lambda: tf.reshape(fn(x, fold(seed, 1)), tf.shape(x)), lambda: x
    )


def _reverb(x: tf.Tensor, seed: tf.Tensor, rirs: tf.Tensor) -> tf.Tensor:
    index = tf.random.stateless_uniform([], seed, 0, tf.shape(rirs)[0], dtype=tf.int32)
    return reverb.reverberate(x, rirs[index])


def _noise(x: tf.Tensor, seed: tf.Tensor, config: RobustConfig, sources: Sources) -> tf.Tensor:
    n = x.shape[0]
    kinds: list[tuple[float, Callable[[tf.Tensor], tf.Tensor]]] = []
    if config.colored_weight > 0:

        def colored(s: tf.Tensor) -> tf.Tensor:
            slope = uniform(fold(s, 0), config.noise_slope_min, config.noise_slope_max)
            snr = uniform(fold(s, 1), config.snr_min, config.snr_max)
            return noise.add_at_snr(x, noise.colored_noise(tf.shape(x)[0], slope, fold(s, 2)), snr)

        kinds.append((config.colored_weight, colored))
    if sources.other is not None:

        def babble(s: tf.Tensor) -> tf.Tensor:
            count = tf.random.stateless_uniform(
                [], fold(s, 0), config.babble_min, config.babble_max + 1, dtype=tf.int32
            )
            snr = uniform(fold(s, 1), config.babble_snr_min, config.babble_snr_max)
            return noise.add_at_snr(x, noise.babble(sources.other, count, fold(s, 2), n), snr)

        kinds.append((config.babble_weight, babble))
    if sources.noises is not None:

        def folder(s: tf.Tensor) -> tf.Tensor:
            snr = uniform(fold(s, 1), config.snr_min, config.snr_max)
            return noise.add_at_snr(x, noise.noise_segment(sources.noises, n, fold(s, 2)), snr)

        kinds.append((config.folder_weight, folder))
    if not kinds:
        return x
    if len(kinds) == 1:
        return kinds[0][1](fold(seed, 1))
    u = uniform(fold(seed, 0)) * sum(w for w, _ in kinds)
    branches, edge = [], 0.0
    for weight, fn in kinds[:-1]:
        edge += weight
        branches.append((u < edge, lambda fn=fn: fn(fold(seed, 1))))
    return tf.case(branches, default=lambda: kinds[-1][1](fold(seed, 1)), exclusive=False)


def _channel(x: tf.Tensor, seed: tf.Tensor, config: RobustConfig, sample_rate: int) -> tf.Tensor:
    """Band limit, EQ and tilt, each drawn with its probability, as one filter (none: no FFT)."""
    parts: list[tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]] = []
    if config.p_band > 0:
        s = fold(seed, _BAND)
        low = uniform(fold(s, 1), config.low_cut_min, config.low_cut_max)
        high = uniform(fold(s, 2), config.high_cut_min, config.high_cut_max)
        parts.append((uniform(fold(s, 0)) < config.p_band, lambda f: channel.band_response(f, low, high)))
    if config.p_eq > 0 and config.eq_bands > 0:
        s = fold(seed, _EQ)
        bands = (config.eq_bands,)
        f0 = log_uniform(fold(s, 1), EQ_FREQUENCY[0], EQ_FREQUENCY[1] * sample_rate, bands)
        gain = tf.random.stateless_uniform(bands, fold(s, 2), -config.eq_gain_db, config.eq_gain_db)
        q = log_uniform(fold(s, 3), config.eq_q_min, config.eq_q_max, bands)

        def eq(f: tf.Tensor) -> tf.Tensor:
            return channel.peaking_response(f, sample_rate, f0, gain, q)

        parts.append((uniform(fold(s, 0)) < config.p_eq, eq))
    if config.p_tilt > 0:
        s = fold(seed, _TILT)
        slope = uniform(fold(s, 1), -config.tilt_db, config.tilt_db)
        parts.append((uniform(fold(s, 0)) < config.p_tilt, lambda f: channel.tilt_response(f, slope)))
    if not parts:
        return x

    def response(f: tf.Tensor) -> tf.Tensor:
        h = tf.ones_like(f, tf.complex64)
        for on, part in parts:
            h *= tf.cond(on, lambda part=part: part(f), lambda: tf.ones_like(f, tf.complex64))
        return h

    any_on = tf.reduce_any(tf.stack([on for on, _ in parts]))
    return tf.cond(
        any_on, lambda: tf.reshape(channel.apply_response(x, response, sample_rate), tf.shape(x)), lambda: x
    )


def voice_colour_response(
    freqs: tf.Tensor, label: tf.Tensor | int, config: RobustConfig, sample_rate: int
) -> tf.Tensor:
    """The complex response of speaker `label`'s fixed voice colour (see RobustConfig) at `freqs` Hz."""
    base = tf.constant([config.room_seed, _VOICE_SALT], tf.int64)
    s = fold(base, tf.cast(label, tf.int64))
    bands = (config.voice_colour_bands,)
    f0 = log_uniform(fold(s, 1), VOICE_FREQUENCY[0], VOICE_FREQUENCY[1] * sample_rate, bands)
    gain = tf.random.stateless_uniform(bands, fold(s, 2), -config.voice_colour_db, config.voice_colour_db)
    q = log_uniform(fold(s, 3), config.eq_q_min, config.eq_q_max, bands)
    return channel.peaking_response(freqs, sample_rate, f0, gain, q)


def _codec(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    return tf.cond(uniform(seed) < 0.5, lambda: channel.mu_law(x), lambda: channel.a_law(x))


# Pure graph code (tf.cond / tf.case, no Python control flow on tensors): autograph
# would only spend seconds re-writing it when tf.data traces the pipeline.
@tf.autograph.experimental.do_not_convert
def robust_augment(
    x: tf.Tensor,
    seed: tf.Tensor,
    config: RobustConfig,
    sources: Sources,
    sample_rate: int,
    label: tf.Tensor | int | None = None,
) -> tf.Tensor:
    """One crop (static length) through the chain of the module docstring; deterministic in `seed`
    (and `label`, the crop's speaker, which the voice colour needs)."""
    x = tf.convert_to_tensor(x, tf.float32)
    seed = tf.convert_to_tensor(seed)
    if config.voice_colour_bands > 0:
        if label is None:
            raise ValueError("data.robust.voice_colour_bands > 0 needs the crop's speaker label")
        x = channel.apply_response(
            x, lambda f: voice_colour_response(f, label, config, sample_rate), sample_rate
        )
        x = x / tf.maximum(1.0, tf.reduce_max(tf.abs(x)))  # a boost above peak 1: scaled back to 1
    if sources.rirs is not None:
        rirs = sources.rirs
        x = _maybe(fold(seed, _REVERB), config.p_reverb, x, lambda y, s: _reverb(y, s, rirs))
    x = _maybe(fold(seed, _NOISE), config.p_noise, x, lambda y, s: _noise(y, s, config, sources))
    x = x / tf.maximum(1.0, tf.reduce_max(tf.abs(x)))  # peak above 1: scaled to 1
    x = _channel(x, fold(seed, _CHANNEL), config, sample_rate)
    x = _maybe(
        fold(seed, _TELEPHONE), config.p_telephone, x, lambda y, s: channel.telephone(y, sample_rate, s)
    )
    return _maybe(fold(seed, _CODEC), config.p_codec, x, _codec)
