"""Optional ONNX conversion of serving_default (tf2onnx and onnxruntime come with the test extra)."""

from __future__ import annotations

import keras
import numpy as np
import onnxruntime as ort  # noqa: E402  (test extra: pip install -e ".[test]")
import pytest


@pytest.mark.slow
def test_onnx_matches_serving_default(tmp_path):
    import tensorflow as tf

    from speaker_tf.errors import ExportError
    from speaker_tf.export.onnx import export_onnx
    from speaker_tf.export.saved_model import export_encoder

    keras.utils.set_random_seed(0)
    inp = keras.Input(shape=(None,), name="waveform")
    x = keras.layers.Reshape((-1, 1))(inp)
    x = keras.layers.Conv1D(8, 16, strides=4, activation="tanh")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, keras.layers.Dense(8)(x))
    path = export_encoder(model, tmp_path, "m", threshold=0.5, val_eer=0.1, min_samples=16)
    out = export_onnx(path.parent, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    default = tf.saved_model.load(str(path)).signatures["serving_default"]
    for shape in [(1, 8), (3, 4000)]:  # shorter than min_samples (padded in the graph), and a batch
        wave = (0.3 * rng.standard_normal(shape)).astype(np.float32)
        want = default(waveform=tf.constant(wave))["embedding"].numpy()
        np.testing.assert_allclose(session.run(None, {"waveform": wave})[0], want, atol=1e-5)
    with pytest.raises(ExportError, match="not overwritten"):
        export_onnx(path, out)
