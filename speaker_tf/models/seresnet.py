"""model1: the raw-waveform SE-ResNet of the notes.

front end -> InBlock -> EBlock x N (stride 2 each) -> time pooling ->
FCBlock -> embedding. With frontend.kind="logmel" the same blocks run 2-D
on [time, mel, 1], and `long_term_spectrum` adds the front end's time mean
to the pooled features.
"""

from __future__ import annotations

from typing import Any

import keras

from speaker_tf.config.model import ModelConfig
from speaker_tf.models.blocks import apply_e_block, apply_fc_block, apply_in_block
from speaker_tf.models.frontends import apply_frontend
from speaker_tf.models.pooling import apply_long_term_spectrum, apply_time_pooling


def res_block_kwargs(config: ModelConfig) -> dict[str, Any]:
    return {
        "kernel": config.res_block.kernel,
        "norm": config.res_block.norm,
        "activation": config.activation,
        "se": config.res_block.se,
    }


def time_reduction(config: ModelConfig) -> int:
    """Frames of the front end per output frame: stride ** number of EBlocks."""
    return config.e_block.stride ** len(config.e_block.channels)


def apply_stem(waveform: Any, config: ModelConfig) -> tuple[Any, int, Any]:
    """Front end -> InBlock, shared by model1 and model2; returns the InBlock's output, its rank and the
    front end's output."""
    features, rank = apply_frontend(
        waveform, config.frontend, activation=config.activation, weight_decay=config.weight_decay
    )
    x = apply_in_block(
        features,
        channels=config.in_block.channels,
        kernel=config.in_block.kernel,
        rank=rank,
        res_block=res_block_kwargs(config) if config.in_block.res_block else None,
        weight_decay=config.weight_decay,
    )
    return x, rank, features


def apply_fc_head(x: Any, config: ModelConfig) -> Any:
    """Pooled features -> FCBlock -> (normalised) embedding."""
    fc = config.fc
    return apply_fc_block(
        x,
        width=fc.width,
        embedding_dim=config.embedding_dim,
        layers=fc.layers,
        residual=fc.residual,
        dropout=fc.dropout,
        activation=config.activation,
        embedding_norm=fc.embedding_norm,
        weight_decay=config.weight_decay,
    )


def apply_seresnet(waveform: Any, config: ModelConfig) -> Any:
    """Waveform [B, T] -> embedding [B, embedding_dim]."""
    wd = config.weight_decay
    x, rank, features = apply_stem(waveform, config)
    eb = config.e_block
    for i, (channels, res_blocks) in enumerate(zip(eb.channels, eb.res_blocks, strict=True), start=1):
        x = apply_e_block(
            x,
            channels=channels,
            res_blocks=res_blocks,
            kernel=eb.kernel,
            stride=eb.stride,
            layout=eb.layout,
            se=eb.se,
            dense_skip=eb.dense_skip,
            activation=config.activation,
            res_block=res_block_kwargs(config),
            rank=rank,
            se_reduction=config.se_reduction,
            weight_decay=wd,
            name=f"eblock_{i}",
        )
    x = apply_time_pooling(x, config.pooling, weight_decay=wd)
    if config.long_term_spectrum:  # validation: log-mel only, so `features` is [B, T, mel, 1]
        x = keras.layers.Concatenate(name="pooling_with_spectrum")([x, apply_long_term_spectrum(features)])
    return apply_fc_head(x, config)
