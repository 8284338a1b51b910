"""model2 (## 15): a DenseNet (Huang et al. 2017) over time.

front end -> InBlock -> stages of densely connected layers -> time pooling
-> FCBlock. A dense layer is [norm] -> act -> conv k (`growth` channels) ->
SEUnit, concatenated to its input (pre-activation, SE, 1x7 kernels in the
original). Stride-2 average pooling makes the transitions: between stages
(downsample="stage") or inside every layer (downsample="layer": the new
features come from a stride-2 conv and the input is average-pooled before
the concatenation, i.e. the later "+Dense" EBlock without ResBlocks).
"""

from __future__ import annotations

from typing import Any

import keras

from speaker_tf.config.model import DenseNetConfig, ModelConfig
from speaker_tf.models.blocks import apply_norm, apply_se_unit, make_activation, make_conv
from speaker_tf.models.pooling import apply_time_pooling
from speaker_tf.models.seresnet import apply_fc_head, apply_stem

STRIDE = 2


def stage_growths(dense: DenseNetConfig) -> tuple[int, ...]:
    """Growth per stage: `stage_growth`, or `growth` for every stage when it is empty."""
    return dense.stage_growth or (dense.growth,) * len(dense.layers)


def time_reduction(config: ModelConfig) -> int:
    dense = config.densenet
    steps = sum(dense.layers) if dense.downsample == "layer" else len(dense.layers) - 1
    return STRIDE**steps


def _pool(rank: int, name: str) -> keras.layers.Layer:
    cls = {1: keras.layers.AveragePooling1D, 2: keras.layers.AveragePooling2D}[rank]
    return cls(pool_size=STRIDE, strides=STRIDE, padding="same", name=name)


def apply_dense_layer(
    x: Any,
    *,
    growth: int,
    kernel: int,
    norm: str,
    activation: str,
    rank: int,
    downsample: bool,
    se_reduction: int = 1,
    weight_decay: float = 0.0,
    name: str = "dense_layer",
) -> Any:
    """concat([x (avg-pooled if downsample), SE(conv(act(norm(x))))])."""
    y = apply_norm(x, norm, name=f"{name}_norm")
    y = make_activation(activation, rank=rank, name=f"{name}_act")(y)
    y = make_conv(
        growth,
        kernel,
        rank=rank,
        strides=STRIDE if downsample else 1,
        weight_decay=weight_decay,
        name=f"{name}_conv",
    )(y)
    y = apply_se_unit(y, rank=rank, reduction=se_reduction, weight_decay=weight_decay, name=f"{name}_se_unit")
    if downsample:
        x = _pool(rank, f"{name}_skip_pool")(x)
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def apply_densenet(waveform: Any, config: ModelConfig) -> Any:
    """Waveform [B, T] -> embedding [B, embedding_dim]."""
    wd = config.weight_decay
    dense = config.densenet
    x, rank, _ = apply_stem(waveform, config)
    per_layer = dense.downsample == "layer"
    for s, (layers, growth) in enumerate(zip(dense.layers, stage_growths(dense), strict=True), start=1):
        if s > 1 and not per_layer:
            x = _pool(rank, f"dense_transition_{s - 1}")(x)
        for j in range(1, layers + 1):
            x = apply_dense_layer(
                x,
                growth=growth,
                kernel=dense.kernel,
                norm=config.res_block.norm,
                activation=config.activation,
                rank=rank,
                downsample=per_layer,
                se_reduction=config.se_reduction,
                weight_decay=wd,
                name=f"dense_stage_{s}_layer_{j}",
            )
    x = apply_time_pooling(x, config.pooling, weight_decay=wd)
    return apply_fc_head(x, config)
