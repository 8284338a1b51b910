"""Temporal pooling: frame features [batch, time, C] -> utterance vector.

avg (the original), max (## 04), statistics (mean and standard deviation,
x-vector style) and attentive statistics (Okabe et al. 2018).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from speaker_tf.errors import ConfigError

POOLINGS = ("avg", "max", "stats", "attentive_stats")
ATTENTION_UNITS = 128  # hidden width of the attentive pooling's scorer


def _weighted_stats(x: Any, weights: Any, epsilon: float) -> Any:
    """Concatenate mean and std over axis 1 with `weights` [B, T, 1] summing to 1."""
    mean = ops.sum(x * weights, axis=1)
    var = ops.sum(weights * ops.square(x - ops.expand_dims(mean, 1)), axis=1)
    return ops.concatenate([mean, ops.sqrt(var + epsilon)], axis=-1)


@keras.saving.register_keras_serializable(package="speaker_tf")
class StatisticsPooling(keras.layers.Layer):
    """[B, T, C] -> [B, 2C]: mean and standard deviation over time."""

    def __init__(self, epsilon: float = 1e-5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x: Any) -> Any:
        steps = ops.cast(ops.shape(x)[1], x.dtype)
        weights = ops.ones_like(x[..., :1]) / steps
        return _weighted_stats(x, weights, self.epsilon)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels = input_shape[-1]
        return (input_shape[0], None if channels is None else 2 * channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="speaker_tf")
class AttentiveStatisticsPooling(keras.layers.Layer):
    """Attentive statistics pooling (Okabe, Koshinaka & Shinoda 2018).

    e_t = v . tanh(W h_t + b) + k, alpha = softmax_t(e), output the
    alpha-weighted mean and standard deviation: [B, T, C] -> [B, 2C].
    """

    def __init__(
        self,
        units: int = ATTENTION_UNITS,
        epsilon: float = 1e-5,
        kernel_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"AttentiveStatisticsPooling units must be >= 1, got {units!r}")
        self.units = units
        self.epsilon = epsilon
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.hidden = keras.layers.Dense(
            units, activation="tanh", kernel_regularizer=self.kernel_regularizer, name="attention_hidden"
        )
        self.score = keras.layers.Dense(1, kernel_regularizer=self.kernel_regularizer, name="attention_score")

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[-1]
        self.hidden.build((None, None, channels))
        self.score.build((None, None, self.units))

    def call(self, x: Any) -> Any:
        weights = ops.softmax(self.score(self.hidden(x)), axis=1)  # [B, T, 1]
        return _weighted_stats(x, weights, self.epsilon)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels = input_shape[-1]
        return (input_shape[0], None if channels is None else 2 * channels)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "epsilon": self.epsilon,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


def make_pooling(
    kind: str, *, name: str = "pooling", weight_decay: float = 0.0, key: str = "model.pooling"
) -> keras.layers.Layer:
    if kind == "avg":
        return keras.layers.GlobalAveragePooling1D(name=name)
    if kind == "max":
        return keras.layers.GlobalMaxPooling1D(name=name)
    if kind == "stats":
        return StatisticsPooling(name=name)
    if kind == "attentive_stats":
        reg = keras.regularizers.L2(weight_decay) if weight_decay > 0 else None
        return AttentiveStatisticsPooling(kernel_regularizer=reg, name=name)
    raise ConfigError(f"{key}={kind!r} is not one of {', '.join(map(repr, POOLINGS))}")


def apply_time_pooling(
    x: Any, kind: str, *, name: str = "pooling", weight_decay: float = 0.0, key: str = "model.pooling"
) -> Any:
    """Pool over time; a 2-D map [B, T, F, C] is first flattened to [B, T, F*C]."""
    if len(x.shape) == 4:
        x = keras.layers.Reshape((-1, int(x.shape[2]) * int(x.shape[3])), name=f"{name}_flatten_freq")(x)
    return make_pooling(kind, name=name, weight_decay=weight_decay, key=key)(x)


def apply_long_term_spectrum(features: Any, *, name: str = "long_term_spectrum") -> Any:
    """Log-mel image [B, T, F, 1] -> [B, F]: its mean over time, batch-normalised (so that its scale
    matches the pooled features it joins). After the front end's mean normalisation this is what the
    normalisation leaves of the utterance's long-term spectrum (nothing with full CMN; its fine shape
    with mean_norm_smooth)."""
    x = keras.layers.Reshape((-1, int(features.shape[2])), name=f"{name}_squeeze")(features)
    x = keras.layers.GlobalAveragePooling1D(name=f"{name}_mean")(x)
    return keras.layers.BatchNormalization(name=f"{name}_norm")(x)
