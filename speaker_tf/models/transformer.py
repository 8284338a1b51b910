"""Transformer speaker encoder on log-mel (reference 000).

log-mel -> subsampling (conv2d, or a linear projection when 1) -> positional
encoding (sinusoidal or learned) -> [CLS token] -> N pre- or post-LayerNorm
transformer blocks -> CLS token or mean over time -> LayerNorm -> projection
to embedding_dim [-> embedding norm].
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from speaker_tf.config.model import ModelConfig
from speaker_tf.errors import ConfigError
from speaker_tf.models.blocks import (
    apply_embedding_norm,
    apply_self_attention,
    make_activation,
    make_dense,
)
from speaker_tf.models.frontends import apply_conv_subsampling, apply_log_mel


def time_reduction(config: ModelConfig) -> int:
    return config.transformer.subsampling


@keras.saving.register_keras_serializable(package="speaker_tf")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """x + PE, PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(...) (Vaswani et al. 2017).

    Any sequence length works, so a variable-length export keeps working.
    """

    def __init__(self, max_wavelength: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, x: Any) -> Any:
        steps, dim = ops.shape(x)[1], int(x.shape[-1])
        position = ops.cast(ops.arange(steps), "float32")[:, None]
        index = ops.arange(dim)
        rate = ops.power(self.max_wavelength, -ops.cast(2 * (index // 2), "float32") / dim)
        angle = position * rate[None, :]
        encoding = ops.where(index % 2 == 0, ops.sin(angle), ops.cos(angle))
        return x + ops.cast(encoding[None], x.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@keras.saving.register_keras_serializable(package="speaker_tf")
class LearnedPositionalEmbedding(keras.layers.Layer):
    """x + E[:T] with a trainable table E of `max_length` rows (longer inputs fail)."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_length < 1:
            raise ValueError(f"LearnedPositionalEmbedding max_length must be >= 1, got {max_length!r}")
        self.max_length = max_length

    def build(self, input_shape: tuple) -> None:
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embeddings",
        )

    def call(self, x: Any) -> Any:
        return x + ops.cast(self.embeddings[None, : ops.shape(x)[1]], x.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="speaker_tf")
class ClassToken(keras.layers.Layer):
    """Prepend a learned [CLS] vector: [B, T, D] -> [B, T + 1, D] (Devlin et al. 2019)."""

    def build(self, input_shape: tuple) -> None:
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, x: Any) -> Any:
        token = ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, int(x.shape[-1])))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps + 1, input_shape[2])


@keras.saving.register_keras_serializable(package="speaker_tf")
class FirstToken(keras.layers.Layer):
    """[B, T, D] -> [B, D]: the first (CLS) position."""

    def call(self, x: Any) -> Any:
        return x[:, 0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])


def apply_transformer_block(
    x: Any,
    *,
    dim: int,
    heads: int,
    ff_dim: int,
    dropout: float,
    activation: str,
    norm: str = "pre",
    weight_decay: float = 0.0,
    name: str = "transformer_block",
) -> Any:
    """Pre-LN: x + MHSA(LN(x)), then x + FFN(LN(x)); post-LN: LN(x + MHSA(x)), then LN(x + FFN(x))."""
    if norm not in ("pre", "post"):
        raise ConfigError(f"model.transformer.norm={norm!r} is not one of 'pre', 'post'")

    def sublayer(x: Any, part: str, fn: Any) -> Any:
        layer_norm = keras.layers.LayerNormalization(name=f"{name}_{part}_norm")
        y = fn(layer_norm(x) if norm == "pre" else x)
        x = keras.layers.Add(name=f"{name}_{part}_add")([x, y])
        return x if norm == "pre" else layer_norm(x)

    def attention(y: Any) -> Any:
        return apply_self_attention(y, heads, dim, dropout, weight_decay, name)

    def feed_forward(y: Any) -> Any:
        y = make_dense(ff_dim, weight_decay=weight_decay, name=f"{name}_ffn_dense1")(y)
        y = make_activation(activation, rank=1, name=f"{name}_ffn_act")(y)
        y = keras.layers.Dropout(dropout, name=f"{name}_ffn_dropout1")(y)
        y = make_dense(dim, weight_decay=weight_decay, name=f"{name}_ffn_dense2")(y)
        return keras.layers.Dropout(dropout, name=f"{name}_ffn_dropout2")(y)

    return sublayer(sublayer(x, "mhsa", attention), "ffn", feed_forward)


def apply_transformer(waveform: Any, config: ModelConfig) -> Any:
    """Waveform [B, T] -> embedding [B, embedding_dim]."""
    t = config.transformer
    wd = config.weight_decay
    x = apply_log_mel(waveform, config.frontend)
    x = apply_conv_subsampling(x, factor=t.subsampling, dim=t.dim, weight_decay=wd)
    if t.positional == "learned":
        x = LearnedPositionalEmbedding(t.max_frames, name="positional_embedding")(x)
    else:
        x = SinusoidalPositionalEncoding(name="positional_encoding")(x)
    if t.pooling == "cls":
        x = ClassToken(name="class_token")(x)
    x = keras.layers.Dropout(t.dropout, name="input_dropout")(x)
    for i in range(1, t.layers + 1):
        x = apply_transformer_block(
            x,
            dim=t.dim,
            heads=t.heads,
            ff_dim=t.ff_dim,
            dropout=t.dropout,
            activation=config.activation,
            norm=t.norm,
            weight_decay=wd,
            name=f"transformer_{i}",
        )
    if t.pooling == "cls":
        x = FirstToken(name="pooling")(x)
    else:
        x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    x = keras.layers.LayerNormalization(name="pooling_norm")(x)
    x = make_dense(config.embedding_dim, weight_decay=wd, name="projection")(x)
    return apply_embedding_norm(x, config.fc.embedding_norm)
