"""Conformer speaker encoder (Gulati et al. 2020) on log-mel, as in reference 004.

log-mel -> conv2d subsampling -> N x [FFN/2 -> MHSA -> conv module -> FFN/2
-> LayerNorm] -> time pooling (`model.pooling`; reference 004 used
attentive statistics) ->
projection to embedding_dim [-> embedding norm].

Attention is keras.layers.MultiHeadAttention with absolute positions left to
the convolutions (no relative positional encoding, unlike the paper).
"""

from __future__ import annotations

from typing import Any

import keras

from speaker_tf.config.model import ModelConfig
from speaker_tf.models.blocks import (
    apply_embedding_norm,
    apply_self_attention,
    make_activation,
    make_dense,
    regularizer,
)
from speaker_tf.models.frontends import apply_conv_subsampling, apply_log_mel
from speaker_tf.models.layers import GLU
from speaker_tf.models.pooling import apply_time_pooling


def time_reduction(config: ModelConfig) -> int:
    return config.conformer.subsampling


def apply_feed_forward(
    x: Any, *, dim: int, mult: int, dropout: float, activation: str, weight_decay: float, name: str
) -> Any:
    """LN -> dense(mult * dim, act) -> dropout -> dense(dim) -> dropout (not yet added)."""
    y = keras.layers.LayerNormalization(name=f"{name}_norm")(x)
    y = make_dense(dim * mult, weight_decay=weight_decay, name=f"{name}_dense1")(y)
    y = make_activation(activation, rank=1, name=f"{name}_act")(y)
    y = keras.layers.Dropout(dropout, name=f"{name}_dropout1")(y)
    y = make_dense(dim, weight_decay=weight_decay, name=f"{name}_dense2")(y)
    return keras.layers.Dropout(dropout, name=f"{name}_dropout2")(y)


def apply_conv_module(
    x: Any, *, dim: int, kernel: int, dropout: float, activation: str, weight_decay: float, name: str
) -> Any:
    """LN -> pointwise (2 dim) -> GLU -> depthwise k -> BN -> act -> pointwise -> dropout."""
    y = keras.layers.LayerNormalization(name=f"{name}_norm")(x)
    y = keras.layers.Conv1D(
        2 * dim, 1, kernel_regularizer=regularizer(weight_decay), name=f"{name}_pointwise1"
    )(y)
    y = GLU(name=f"{name}_glu")(y)
    y = keras.layers.DepthwiseConv1D(
        kernel, padding="same", depthwise_regularizer=regularizer(weight_decay), name=f"{name}_depthwise"
    )(y)
    y = keras.layers.BatchNormalization(name=f"{name}_batch_norm")(y)
    y = make_activation(activation, rank=1, name=f"{name}_act")(y)
    y = keras.layers.Conv1D(dim, 1, kernel_regularizer=regularizer(weight_decay), name=f"{name}_pointwise2")(
        y
    )
    return keras.layers.Dropout(dropout, name=f"{name}_dropout")(y)


def apply_conformer_block(
    x: Any,
    *,
    dim: int,
    heads: int,
    ff_mult: int,
    conv_kernel: int,
    dropout: float,
    activation: str = "swish",
    weight_decay: float = 0.0,
    name: str = "conformer_block",
) -> Any:
    """x + FFN/2 -> + MHSA -> + conv -> + FFN/2 -> LayerNorm (macaron structure)."""
    ffn = {
        "dim": dim,
        "mult": ff_mult,
        "dropout": dropout,
        "activation": activation,
        "weight_decay": weight_decay,
    }
    y = apply_feed_forward(x, name=f"{name}_ffn1", **ffn)
    x = keras.layers.Add(name=f"{name}_ffn1_add")(
        [x, keras.layers.Rescaling(0.5, name=f"{name}_ffn1_half")(y)]
    )
    y = keras.layers.LayerNormalization(name=f"{name}_mhsa_norm")(x)
    y = apply_self_attention(y, heads, dim, dropout, weight_decay, name)
    x = keras.layers.Add(name=f"{name}_mhsa_add")([x, y])
    y = apply_conv_module(
        x,
        dim=dim,
        kernel=conv_kernel,
        dropout=dropout,
        activation=activation,
        weight_decay=weight_decay,
        name=f"{name}_conv",
    )
    x = keras.layers.Add(name=f"{name}_conv_add")([x, y])
    y = apply_feed_forward(x, name=f"{name}_ffn2", **ffn)
    x = keras.layers.Add(name=f"{name}_ffn2_add")(
        [x, keras.layers.Rescaling(0.5, name=f"{name}_ffn2_half")(y)]
    )
    return keras.layers.LayerNormalization(name=f"{name}_norm")(x)


def apply_conformer(waveform: Any, config: ModelConfig) -> Any:
    """Waveform [B, T] -> embedding [B, embedding_dim]."""
    c = config.conformer
    wd = config.weight_decay
    x = apply_log_mel(waveform, config.frontend)
    x = apply_conv_subsampling(x, factor=c.subsampling, dim=c.dim, weight_decay=wd)
    x = keras.layers.Dropout(c.dropout, name="subsampling_dropout")(x)
    for i in range(1, c.layers + 1):
        x = apply_conformer_block(
            x,
            dim=c.dim,
            heads=c.heads,
            ff_mult=c.ff_mult,
            conv_kernel=c.conv_kernel,
            dropout=c.dropout,
            activation=config.activation,
            weight_decay=wd,
            name=f"conformer_{i}",
        )
    x = apply_time_pooling(x, config.pooling, weight_decay=wd)
    x = make_dense(config.embedding_dim, weight_decay=wd, name="projection")(x)
    return apply_embedding_norm(x, config.fc.embedding_norm)
