"""Classification heads on the embedding ("OutBlock", ## 113-118) and the AAM head.

The AAM head outputs plain cosines cos(theta) in [-1, 1] between the
L2-normalised embedding and L2-normalised class weights; the scale and the
additive angular margin (ArcFace, Deng et al. 2019) are applied by the loss
`speaker_tf.losses.AdditiveAngularMarginLoss(scale, margin)`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from speaker_tf.config.model import HeadConfig
from speaker_tf.errors import ConfigError
from speaker_tf.models.blocks import make_activation, make_dense, regularizer

HEADS = ("dense", "act_dense", "dense_act_dense", "act_dense_act_dense", "aam")


@keras.saving.register_keras_serializable(package="speaker_tf")
class CosineDense(keras.layers.Layer):
    """[B, D] -> [B, units] cosines between x and each class weight column."""

    def __init__(
        self, units: int, epsilon: float = 1e-12, kernel_initializer: Any = "glorot_uniform", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"CosineDense units must be >= 1, got {units!r}")
        self.units = units
        self.epsilon = epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer=self.kernel_initializer, name="kernel"
        )

    def _normalize(self, x: Any, axis: int) -> Any:
        return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), self.epsilon**2))

    def call(self, x: Any) -> Any:
        return ops.matmul(self._normalize(x, -1), self._normalize(ops.cast(self.kernel, x.dtype), 0))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "epsilon": self.epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def apply_out_block(
    embedding: Any,
    head: HeadConfig,
    num_speakers: int,
    *,
    activation: str,
    weight_decay: float = 0.0,
    name: str = "out_block",
) -> Any:
    """embedding -> logits [B, num_speakers] (cosines for kind="aam").

    dense: [dropout] -> dense; act_dense: act -> [dropout] -> dense;
    dense_act_dense: dense(hidden) -> act -> [dropout] -> dense;
    act_dense_act_dense: act -> dense(hidden) -> act -> [dropout] -> dense;
    aam: [dropout] -> cosine layer. Dropout (## 117, 118) is before the last layer.
    """
    if num_speakers < 1:
        raise ConfigError(f"num_speakers={num_speakers!r} must be >= 1")
    if head.kind not in HEADS:
        raise ConfigError(f"model.head.kind={head.kind!r} is not one of {', '.join(map(repr, HEADS))}")
    x = embedding
    steps = {
        "dense": [],
        "act_dense": ["act"],
        "dense_act_dense": ["dense", "act"],
        "act_dense_act_dense": ["act", "dense", "act"],
        "aam": [],
    }[head.kind]
    acts = denses = 0
    for step in steps:
        if step == "act":
            acts += 1
            x = make_activation(activation, rank=0, name=f"{name}_act{acts}")(x)
        else:
            denses += 1
            x = make_dense(head.hidden, weight_decay=weight_decay, name=f"{name}_dense{denses}")(x)
    if head.dropout > 0:
        x = keras.layers.Dropout(head.dropout, name=f"{name}_dropout")(x)
    if head.kind == "aam":
        return CosineDense(num_speakers, dtype="float32", name=f"{name}_cosine")(x)
    # float32 logits also under mixed precision (softmax / margin losses)
    return keras.layers.Dense(
        num_speakers, kernel_regularizer=regularizer(weight_decay), dtype="float32", name=f"{name}_logits"
    )(x)
