"""Layers on log-mel frames [batch, time, bands] after the front end's log-mel.

RandomSpectralTilt  training-only augmentation: a random smooth EQ (a
                    low-order polynomial across the bands, in dB) added to
                    every frame of an utterance.
Cepstra             DCT-II across the bands keeping the first N coefficients
                    (MFCC-like cepstra, the coarse spectral envelope), with an
                    optional sinusoidal lifter.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

DB_TO_LOG_POWER = math.log(10.0) / 10.0  # 1 dB of power in natural-log units (the log-mel's)


@keras.saving.register_keras_serializable(package="speaker_tf")
class RandomSpectralTilt(keras.layers.Layer):
    """Per-utterance random EQ on log-mel [B, T, F], training only.

    Adds sum_{k=1..order} c_k u^k to band u (the bands spaced evenly over
    u in [-1, 1]) in every frame, with each c_k ~ U(-max_db, max_db) dB drawn
    per utterance: k = 1 tilts the spectrum, k = 2 bends it. So |gain| <=
    order * max_db dB, reached at the edge bands. The overall level (k = 0)
    is left alone. A stationary per-band offset is exactly what per-utterance
    mean normalisation removes, so this only acts on features without it.
    """

    def __init__(self, max_db: float = 3.0, order: int = 2, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_db < 0:
            raise ValueError(f"RandomSpectralTilt max_db must be >= 0, got {max_db!r}")
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"RandomSpectralTilt order must be an integer >= 1, got {order!r}")
        self.max_db = max_db
        self.order = order
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def powers(self, bands: int) -> np.ndarray:
        """[order, bands]: u^k for k = 1..order, u evenly spaced over [-1, 1]."""
        u = np.linspace(-1.0, 1.0, bands) if bands > 1 else np.zeros(1)
        return np.stack([u**k for k in range(1, self.order + 1)]).astype(np.float32)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if not training or self.max_db == 0.0:
            return x
        bands = x.shape[-1]
        if bands is None:
            raise ValueError("RandomSpectralTilt needs a known number of bands (last axis)")
        batch = ops.shape(x)[0]
        coefficients = keras.random.uniform(
            (batch, self.order), -self.max_db, self.max_db, seed=self.seed_generator
        )
        curve = ops.matmul(coefficients * DB_TO_LOG_POWER, ops.convert_to_tensor(self.powers(bands)))
        return x + ops.cast(ops.expand_dims(curve, 1), x.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_db": self.max_db, "order": self.order, "seed": self.seed}


def dct_matrix(bands: int, coefficients: int, lifter: float = 0.0) -> np.ndarray:
    """[bands, coefficients]: orthonormal DCT-II columns, times the lifter.

    Column n: s_n cos(pi n (m + 1/2) / bands) over bands m, s_0 = sqrt(1 /
    bands), else sqrt(2 / bands). lifter L > 0 scales column n by 1 + (L / 2)
    sin(pi n / L) (the HTK sinusoidal lifter, Juang et al. 1987), which
    evens out the cepstra's magnitudes.
    """
    m = np.arange(bands)[:, None] + 0.5
    n = np.arange(coefficients)[None, :]
    matrix = np.cos(np.pi * n * m / bands) * np.where(n == 0, math.sqrt(1.0 / bands), math.sqrt(2.0 / bands))
    if lifter > 0:
        matrix = matrix * (1.0 + lifter / 2.0 * np.sin(np.pi * n / lifter))
    return matrix.astype(np.float32)


@keras.saving.register_keras_serializable(package="speaker_tf")
class Cepstra(keras.layers.Layer):
    """Log-mel [B, T, F] -> cepstra [B, T, coefficients] (DCT-II across bands).

    Keeping the first N coefficients keeps the smooth spectral envelope and
    drops the fine detail across bands (harmonics, synthesiser artefacts), as
    MFCCs do; see `dct_matrix` for the transform and the lifter.
    """

    def __init__(self, coefficients: int, lifter: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(coefficients, bool) or not isinstance(coefficients, int) or coefficients < 1:
            raise ValueError(f"Cepstra coefficients must be an integer >= 1, got {coefficients!r}")
        if lifter < 0:
            raise ValueError(f"Cepstra lifter must be >= 0, got {lifter!r}")
        self.coefficients = coefficients
        self.lifter = lifter

    def build(self, input_shape: tuple) -> None:
        bands = input_shape[-1]
        if bands is None or bands < self.coefficients:
            raise ValueError(
                f"Cepstra coefficients={self.coefficients!r} needs at least as many input bands, "
                f"got shape {tuple(input_shape)!r}"
            )
        self._matrix = dct_matrix(bands, self.coefficients, self.lifter)

    def call(self, x: Any) -> Any:
        return ops.matmul(x, ops.cast(ops.convert_to_tensor(self._matrix), x.dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.coefficients)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "coefficients": self.coefficients, "lifter": self.lifter}
