"""Checks of a ModelConfig before building, and the shortest accepted input.

Every impossible value raises `ConfigError` naming the dotted key and the
value, e.g. "model.e_block.res_blocks has 9 entries but
model.e_block.channels has 10"; single-value ranges come from the fields'
declarations (speaker_tf/config/ranges.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from speaker_tf.config.model import FrontendConfig, ModelConfig
from speaker_tf.config.ranges import check_ranges
from speaker_tf.errors import ConfigError
from speaker_tf.models.blocks import ACTIVATIONS, NORMS, check_layout, check_se_placements
from speaker_tf.models.densenet import time_reduction as densenet_reduction
from speaker_tf.models.frontends import window_samples
from speaker_tf.models.pooling import POOLINGS

NETWORKS = ("seresnet", "densenet", "conformer", "transformer")
FRONTENDS = ("raw", "strided", "sinc", "logmel")


def _one_of(key: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(repr, allowed))}")


def _power_of_two(key: str, value: int) -> None:
    """`value` >= 1 (checked by its declared range) with one bit set."""
    if value & (value - 1):
        raise ConfigError(f"{key}={value!r} must be a power of 2 (1, 2, 4, 8, ...)")


def _log_mel_options_set(fe: FrontendConfig) -> list[tuple[str, Any]]:
    """The issue-9 log-mel options changed from their defaults (which do nothing)."""
    defaults = FrontendConfig()
    keys = (
        "min_freq",
        "max_freq",
        "variance_norm",
        "mean_norm_smooth",
        "vtlp_warp",
        "tilt_db",
        "cepstra",
        "lifter",
    )
    return [(key, getattr(fe, key)) for key in keys if getattr(fe, key) != getattr(defaults, key)]


def _check_log_mel_options(fe: FrontendConfig) -> None:
    nyquist = fe.sample_rate / 2.0
    top = nyquist if fe.max_freq is None else fe.max_freq
    if not fe.min_freq < top <= nyquist:
        raise ConfigError(
            f"model.frontend.min_freq={fe.min_freq!r} and model.frontend.max_freq={fe.max_freq!r} "
            f"need 0 <= min_freq < max_freq <= {nyquist:g} (Nyquist of sample_rate={fe.sample_rate!r})"
        )
    if fe.variance_norm and not fe.mean_norm:
        raise ConfigError("model.frontend.variance_norm=True needs model.frontend.mean_norm=True (CMVN)")
    if fe.mean_norm_smooth and (not fe.mean_norm or fe.variance_norm):
        raise ConfigError(
            f"model.frontend.mean_norm_smooth={fe.mean_norm_smooth!r} needs model.frontend.mean_norm=True "
            "and model.frontend.variance_norm=False (it changes which part of the mean CMN removes)"
        )
    if fe.mean_norm_smooth > fe.n_mels:
        raise ConfigError(
            f"model.frontend.mean_norm_smooth={fe.mean_norm_smooth!r} must be <= "
            f"model.frontend.n_mels={fe.n_mels!r}"
        )
    if fe.vtlp_warp and not 0 < fe.vtlp_boundary_hz < nyquist:
        raise ConfigError(
            f"model.frontend.vtlp_boundary_hz={fe.vtlp_boundary_hz!r} must be in (0, {nyquist:g}) "
            "(below Nyquist)"
        )
    if fe.tilt_db and fe.mean_norm:
        raise ConfigError(
            f"model.frontend.tilt_db={fe.tilt_db!r} has no effect with model.frontend.mean_norm=True: "
            "per-utterance mean normalisation removes any constant per-band gain; set mean_norm=false"
        )
    if fe.cepstra > fe.n_mels:
        raise ConfigError(
            f"model.frontend.cepstra={fe.cepstra!r} must be <= model.frontend.n_mels={fe.n_mels!r}"
        )
    if fe.lifter and not fe.cepstra:
        raise ConfigError(f"model.frontend.lifter={fe.lifter!r} needs model.frontend.cepstra > 0")


def validate(config: ModelConfig) -> None:
    """Raise ConfigError for the first impossible value in `config`.

    Ranges of single values are declared next to each field (speaker_tf/config/ranges.py);
    this adds the choices and the rules between fields.
    """
    check_ranges(config, "model.")
    _one_of("model.network", config.network, NETWORKS)
    _one_of("model.activation", config.activation, ACTIVATIONS)
    _one_of("model.pooling", config.pooling, POOLINGS)

    fe = config.frontend
    _one_of("model.frontend.kind", fe.kind, FRONTENDS)
    if fe.kind == "sinc" and fe.kernel % 2 == 0:
        raise ConfigError(
            f"model.frontend.kernel={fe.kernel!r} must be odd for the sinc front end (symmetric filters)"
        )
    if fe.kind == "logmel":
        _check_log_mel_options(fe)
    else:
        for key, value in _log_mel_options_set(fe):
            raise ConfigError(f"model.frontend.{key}={value!r} needs model.frontend.kind='logmel'")

    if config.long_term_spectrum and (config.network != "seresnet" or fe.kind != "logmel"):
        raise ConfigError(
            f"model.long_term_spectrum=True needs model.network='seresnet' and model.frontend.kind='logmel' "
            f"(got {config.network!r} and {fe.kind!r})"
        )
    if config.network in ("seresnet", "densenet"):
        _one_of("model.res_block.norm", config.res_block.norm, NORMS)
        _one_of("model.fc.layers", config.fc.layers, (1, 2))
    _one_of("model.fc.embedding_norm", config.fc.embedding_norm, ("none", "batch", "layer", "l2"))

    if config.network == "seresnet":
        eb = config.e_block
        if len(eb.res_blocks) != len(eb.channels):
            raise ConfigError(
                f"model.e_block.res_blocks has {len(eb.res_blocks)} entries but "
                f"model.e_block.channels has {len(eb.channels)}"
            )
        check_layout(eb.layout)
        check_se_placements(eb.se)
    elif config.network == "densenet":
        dn = config.densenet
        if not dn.layers:
            raise ConfigError("model.densenet.layers=() needs at least one stage")
        if dn.stage_growth and len(dn.stage_growth) != len(dn.layers):
            raise ConfigError(
                f"model.densenet.stage_growth has {len(dn.stage_growth)} entries but "
                f"model.densenet.layers has {len(dn.layers)}"
            )
        _one_of("model.densenet.downsample", dn.downsample, ("stage", "layer"))
    else:
        section = config.conformer if config.network == "conformer" else config.transformer
        prefix = f"model.{config.network}"
        if fe.kind != "logmel":
            raise ConfigError(
                f"model.frontend.kind={fe.kind!r}: model.network={config.network!r} runs on log-mel "
                "features; set model.frontend.kind='logmel'"
            )
        if section.dim % section.heads:
            raise ConfigError(
                f"{prefix}.dim={section.dim!r} must be divisible by {prefix}.heads={section.heads!r}"
            )
        _power_of_two(f"{prefix}.subsampling", section.subsampling)
        if config.network == "transformer":
            _one_of(f"{prefix}.pooling", section.pooling, ("cls", "mean"))
            _one_of(f"{prefix}.norm", section.norm, ("pre", "post"))
            _one_of(f"{prefix}.positional", section.positional, ("sinusoidal", "learned"))

    _one_of(
        "model.head.kind",
        config.head.kind,
        ("dense", "act_dense", "dense_act_dense", "act_dense_act_dense", "aam"),
    )


def time_reduction(config: ModelConfig) -> tuple[int, str]:
    """(front-end frames per output frame, what causes it) for the network."""
    if config.network == "seresnet":
        n, s = len(config.e_block.channels), config.e_block.stride
        return s**n, f"{n} stride-{s} EBlocks (model.e_block.channels)"
    if config.network == "densenet":
        return densenet_reduction(
            config
        ), f"model.densenet.layers={config.densenet.layers!r} (downsample={config.densenet.downsample!r})"
    section = config.conformer if config.network == "conformer" else config.transformer
    return section.subsampling, f"model.{config.network}.subsampling={section.subsampling!r}"


def min_samples(config: ModelConfig) -> int:
    """The shortest waveform the encoder accepts: one output frame after every
    stride has seen at least a full step ('same' padding never drops a frame).
    """
    reduction, _ = time_reduction(config)
    fe = config.frontend
    if fe.kind == "logmel":  # frames = 1 + T // hop
        return max(1, (reduction - 1) * window_samples(fe)[1])
    hop = fe.stride if fe.kind in ("strided", "sinc") else 1  # frames = ceil(T / hop)
    return (reduction - 1) * hop + 1


def check_crop(config: ModelConfig, crop_samples: int) -> None:
    """ConfigError when a training crop is too short for the network's strides."""
    needed = min_samples(config)
    if crop_samples < needed:
        _, cause = time_reduction(config)
        raise ConfigError(
            f"crop_samples={crop_samples!r} is too short: {cause} with model.frontend.kind="
            f"{config.frontend.kind!r} need at least {needed} samples; "
            "use a longer data.crop_seconds or fewer stride-2 blocks"
        )
    if config.network == "transformer" and config.transformer.positional == "learned":
        frames = 1 + crop_samples // window_samples(config.frontend)[1]
        frames = -(-frames // config.transformer.subsampling)  # ceil: 'same' padding
        if frames > config.transformer.max_frames:
            raise ConfigError(
                f"model.transformer.max_frames={config.transformer.max_frames!r} is shorter than the "
                f"{frames} frames of a crop of {crop_samples} samples"
            )
