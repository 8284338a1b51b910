"""Load a trained encoder as a plain ``waveforms -> embeddings`` NumPy function.

Two formats are accepted (any form of ``speaker_tf.export.model_path``):

* a SavedModel export directory (contains ``saved_model.pb``): the
  ``serving_default`` signature, input key ``waveform`` (float32 ``[N, samples]``),
  output key ``embedding`` (``[N, D]``) -- the contract of ``speaker_tf.export``;
* a ``.keras`` file holding a model that maps ``[N, samples]`` to ``[N, D]``.

TensorFlow / Keras are imported only when called so CLI start-up stays fast.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from speaker_tf.errors import ExportError

__all__ = ["load_embedder", "SIGNATURE", "INPUT_KEY", "OUTPUT_KEY"]

SIGNATURE = "serving_default"
INPUT_KEY = "waveform"
OUTPUT_KEY = "embedding"


def _register_custom_objects() -> None:
    """Import packages whose layers/losses register themselves for deserialisation."""
    for name in ("speaker_tf.models", "speaker_tf.losses"):
        try:
            importlib.import_module(name)
        except ImportError:  # optional: a plain-Keras model needs neither
            pass


def _load_saved_model(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as exc:  # TF raises OSError / ValueError / parse errors
        raise ExportError(f"cannot load SavedModel {str(path)!r}: {exc}") from None
    signatures = getattr(loaded, "signatures", {})
    if SIGNATURE not in signatures:
        raise ExportError(
            f"SavedModel {str(path)!r} has no {SIGNATURE!r} signature (has {sorted(signatures.keys())})"
        )
    fn = signatures[SIGNATURE]
    _, kwargs = fn.structured_input_signature
    if INPUT_KEY not in kwargs:
        raise ExportError(
            f"SavedModel {str(path)!r} signature {SIGNATURE!r} has inputs {sorted(kwargs)}, "
            f"expected {INPUT_KEY!r}"
        )
    dtype = kwargs[INPUT_KEY].dtype
    outputs = fn.structured_outputs
    if OUTPUT_KEY not in outputs:
        raise ExportError(
            f"SavedModel {str(path)!r} signature {SIGNATURE!r} has outputs {sorted(outputs)}, "
            f"expected {OUTPUT_KEY!r}"
        )

    def embed(batch: np.ndarray) -> np.ndarray:
        result = fn(**{INPUT_KEY: tf.constant(np.asarray(batch), dtype=dtype)})
        return np.asarray(result[OUTPUT_KEY].numpy())

    embed.model = loaded  # keep the trackable alive for as long as the function is
    return embed


def _load_keras(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import keras

    _register_custom_objects()
    try:
        model = keras.saving.load_model(str(path), compile=False)
    except Exception as exc:  # unknown layers, corrupt zip, version mismatch
        raise ExportError(f"cannot load Keras model {str(path)!r}: {exc}") from None

    def embed(batch: np.ndarray) -> np.ndarray:
        out = model(np.asarray(batch, dtype=np.float32), training=False)
        if isinstance(out, dict):
            if OUTPUT_KEY not in out:
                raise ExportError(
                    f"Keras model {str(path)!r} returns outputs {sorted(out)}, expected {OUTPUT_KEY!r}"
                )
            out = out[OUTPUT_KEY]
        return np.asarray(keras.ops.convert_to_numpy(out))

    embed.model = model
    return embed


def load_embedder(path: str | os.PathLike) -> Callable[[np.ndarray], np.ndarray]:
    """Return ``embed(batch [N, samples] float32) -> [N, D] numpy`` for a saved encoder.

    ``path`` is anything :func:`speaker_tf.export.model_path.resolve_model` accepts:
    a run folder or ``.keras`` file (the Keras encoder) or an export (``serving_default``).
    """
    from speaker_tf.export.model_path import resolve_model

    model = resolve_model(path)
    if model.kind == "export":
        return _load_saved_model(model.path)
    return _load_keras(model.path)
