"""Which ops an export's graphs use, and whether a stock TF Serving binary has them.

A stock ``tensorflow/serving`` image runs only ops compiled into TensorFlow.
Python-callback ops (``tf.py_function`` / ``tf.numpy_function``) are registered
in every Python process but need a Python interpreter, which the server lacks,
so they are refused by name.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PYTHON_OPS", "saved_model_ops", "signature_ops", "graph_def_ops", "unservable_ops"]

PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def graph_def_ops(graph_def) -> set[str]:
    """Op types of a GraphDef's nodes and of every function in its library."""
    ops = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        ops.update(node.op for node in function.node_def)
    return ops


def saved_model_ops(version_dir: str | os.PathLike) -> set[str]:
    """Every op type in ``saved_model.pb`` (all meta graphs, all functions), read from the file."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(version_dir) / "saved_model.pb").read_bytes())
    ops: set[str] = set()
    for meta_graph in proto.meta_graphs:
        ops |= graph_def_ops(meta_graph.graph_def)
    return ops


def signature_ops(loaded) -> dict[str, set[str]]:
    """signature name -> op types its concrete function's graph uses (nested functions included)."""
    return {name: graph_def_ops(fn.graph.as_graph_def()) for name, fn in loaded.signatures.items()}


def unservable_ops(ops: set[str]) -> list[str]:
    """The ops of ``ops`` a stock TF Serving cannot run: Python callbacks and unregistered ops."""
    from tensorflow.python.framework import op_def_registry

    return sorted(op for op in ops if op in PYTHON_OPS or op_def_registry.get(op) is None)
