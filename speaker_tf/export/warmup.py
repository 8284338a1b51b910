"""TF Serving warm-up requests: one Predict request per signature.

TF Serving replays ``assets.extra/tf_serving_warmup_requests`` (a TFRecord of
``PredictionLog`` protos) when it loads a version, so the first real request
does not pay for graph optimisation and kernel selection.
"""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path
from typing import Any

import numpy as np

from speaker_tf.export.layout import WARMUP_FILE

__all__ = ["warmup_inputs", "write_warmup_requests", "wav_bytes"]


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM mono WAV file bytes of float samples in [-1, 1] (what ``embed_wav`` decodes)."""
    pcm = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def warmup_inputs(info: dict[str, Any], seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """signature -> {input name: array}: a small, valid request for every signature.

    Waveforms are one window long (the common serving size); ``embed_wav`` and
    ``embed_utterances`` get one and a half windows so the windowed path warms up too.
    """
    rng = np.random.default_rng(seed)
    window = int(info["window_samples"])
    long = window + window // 2
    wave1 = (0.1 * rng.standard_normal((1, window))).astype(np.float32)
    wave2 = (0.1 * rng.standard_normal((1, window))).astype(np.float32)
    long_wave = np.clip(0.1 * rng.standard_normal(long), -1, 1).astype(np.float32)
    return {
        "serving_default": {"waveform": wave1},
        "embed_wav": {"wav": np.array([wav_bytes(long_wave, info["sample_rate"])], dtype=object)},
        "embed_utterances": {
            "waveform": long_wave[np.newaxis, :],
            "length": np.array([long], dtype=np.int32),
        },
        "verify": {"waveform_a": wave1, "waveform_b": wave2},
        "metadata": {"unused": np.zeros([1], np.float32)},
    }


def write_warmup_requests(version_dir: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Write ``assets.extra/tf_serving_warmup_requests`` into an export folder."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = Path(version_dir) / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in warmup_inputs(info).items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=info["name"], signature_name=signature)
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
