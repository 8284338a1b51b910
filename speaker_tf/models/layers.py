"""Small registered layers shared by several networks."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="speaker_tf")
class L2Normalize(keras.layers.Layer):
    """x / max(||x||, epsilon) along `axis`: embeddings on the unit sphere (## 122)."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-12, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def call(self, x: Any) -> Any:
        norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=self.axis, keepdims=True), self.epsilon**2))
        return x / norm

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="speaker_tf")
class GLU(keras.layers.Layer):
    """Gated linear unit (Dauphin et al. 2017): a * sigmoid(b), halves `axis`."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x: Any) -> Any:
        a, b = ops.split(x, 2, axis=self.axis)
        return a * ops.sigmoid(b)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        if shape[self.axis] is not None:
            if shape[self.axis] % 2:
                raise ValueError(
                    f"GLU needs an even size on axis {self.axis}, got shape {tuple(input_shape)!r}"
                )
            shape[self.axis] //= 2
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
