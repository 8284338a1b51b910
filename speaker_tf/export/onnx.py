"""Optional: the ``serving_default`` signature of an export as an ONNX model.

Needs ``pip install tf2onnx onnxruntime`` (not dependencies of speaker_tf; tf2onnx 1.17 with
onnxruntime 1.32 convert TF 2.21 exports). Only ``serving_default`` converts: input
``waveform`` float32 [batch, samples], output ``embedding`` [batch, D], peak normalisation,
padding to ``min_samples`` and L2 normalisation included. ``embed_wav`` (DecodeWav) and the
windowed signatures have no ONNX equivalent; window long audio in the client.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from speaker_tf.errors import ExportError
from speaker_tf.export.layout import resolve_export

__all__ = ["export_onnx"]


def export_onnx(
    export: str | os.PathLike, out: str | os.PathLike, opset: int = 17, check: bool = True
) -> Path:
    """Convert ``serving_default`` of ``export`` to ``out`` (.onnx) with tf2onnx.

    With ``check``, onnxruntime runs the result on two random waveforms and the embeddings
    must match the SavedModel's to 1e-4, else ExportError (and no file is left).
    """
    try:
        import onnxruntime
        import tf2onnx  # noqa: F401
    except ImportError:
        raise ExportError(
            "ONNX export needs tf2onnx and onnxruntime: pip install tf2onnx onnxruntime"
        ) from None
    version_dir = resolve_export(export)
    target = Path(out)
    if target.suffix != ".onnx":
        raise ValueError(f"ONNX output {str(target)!r} must end in .onnx")
    if target.exists():
        raise ExportError(f"{str(target)!r} exists; not overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.partial.onnx")
    # The command-line converter freezes the variables of a SavedModel signature; its
    # Python from_function API would leave them as extra graph inputs.
    cmd = [
        sys.executable,
        "-m",
        "tf2onnx.convert",
        "--saved-model",
        str(version_dir),
        "--signature_def",
        "serving_default",
        "--opset",
        str(int(opset)),
        "--output",
        str(tmp),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not tmp.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ExportError(f"tf2onnx could not convert {str(version_dir)!r}: {last}")
        if check:
            import tensorflow as tf

            x = (0.1 * np.random.default_rng(0).standard_normal((2, 16000))).astype(np.float32)
            x[1] *= 5.0
            session = onnxruntime.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
            got = session.run(None, {"waveform": x})[0]
            loaded = tf.saved_model.load(str(version_dir))
            want = loaded.signatures["serving_default"](waveform=tf.constant(x))["embedding"].numpy()
            if got.shape != want.shape or not np.allclose(got, want, atol=1e-4):
                raise ExportError(
                    f"ONNX conversion of {str(version_dir)!r} disagrees with the SavedModel "
                    f"(max |diff| {float(np.max(np.abs(got - want))):.3g})"
                )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
