"""SavedModel export for TF Serving, the enrolment store, and tools on an export.

Submodules: ``saved_model`` (export_encoder, load_run_encoder), ``layout``
(folder layout, metadata, models_config), ``warmup``, ``graph_ops`` (servable-op
check), ``tools`` (ExportedModel), ``enrollment`` (EnrollmentStore), ``onnx`` (optional). Names are
imported lazily so ``import speaker_tf.export`` does not load TensorFlow.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "export_encoder": "speaker_tf.export.saved_model",
    "load_run_encoder": "speaker_tf.export.saved_model",
    "models_config": "speaker_tf.export.layout",
    "resolve_export": "speaker_tf.export.layout",
    "read_metadata": "speaker_tf.export.layout",
    "ExportedModel": "speaker_tf.export.tools",
    "EnrollmentStore": "speaker_tf.export.enrollment",
    "export_onnx": "speaker_tf.export.onnx",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'speaker_tf.export' has no attribute {name!r}")
