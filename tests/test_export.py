"""SavedModel export: signatures against NumPy references, a fresh TF process, warm-up,
versions, the servable-op check, saved_model_cli and the TF Serving model config."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from speaker_tf.cli import main as cli_main
from speaker_tf.errors import ExportError
from speaker_tf.export import layout
from speaker_tf.export.graph_ops import graph_def_ops, saved_model_ops, signature_ops, unservable_ops
from speaker_tf.export.saved_model import export_encoder, load_run_encoder

SR = 16000
WINDOW_S, HOP_S = 0.25, 0.125  # 4000 / 2000 samples: tiny, so the windowed path runs fast
WINDOW, HOP = 4000, 2000
MIN_SAMPLES = 44  # first conv needs 16 samples, the second 8 of its frames: 16 + 7 * 4


def tiny_encoder(seed: int = 0) -> keras.Model:
    """Waveform [batch, samples] -> [batch, 8]; any length >= MIN_SAMPLES."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(None,), name="waveform")
    x = keras.layers.Reshape((-1, 1))(inp)
    x = keras.layers.Conv1D(8, 16, strides=4, activation="tanh")(x)
    x = keras.layers.Conv1D(8, 8, strides=4, activation="tanh")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, keras.layers.Dense(8)(x))


def keras_reference(model: keras.Model, rows: np.ndarray) -> np.ndarray:
    """Independent reference: peak-normalise rows in NumPy, run Keras, L2-normalise."""
    x = rows / np.max(np.abs(rows), axis=1, keepdims=True)
    e = np.asarray(model(x.astype(np.float32), training=False), np.float64)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def signal(rng: np.random.Generator, n: int, freq: float, scale: float) -> np.ndarray:
    t = np.arange(n) / SR
    x = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal(n)
    return (scale * x / np.max(np.abs(x))).astype(np.float32)


def quantised(x: np.ndarray) -> np.ndarray:
    """Samples on the 16-bit grid (k / 32768), which decode_wav returns exactly."""
    pcm = np.clip(np.round(x.astype(np.float64) * 32767.0), -32768, 32767)
    return (pcm / 32768.0).astype(np.float32)


def wav16(x: np.ndarray) -> bytes:
    """16-bit PCM WAV bytes of quantised samples [n] or [n, channels], written independently."""
    frames = np.round(np.asarray(x, np.float64) * 32768.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1 if frames.ndim == 1 else frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(frames.tobytes())
    return buffer.getvalue()


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(root.rglob("*"))
        if f.is_file()
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One export of a tiny encoder; threshold put between the test pairs' scores."""
    rng = np.random.default_rng(0)
    model = tiny_encoder()
    a = np.stack([signal(rng, 3000, f, s) for f, s in [(200, 0.5), (900, 0.1), (3000, 0.9), (450, 0.3)]])
    b = np.stack([signal(rng, 2500, f, s) for f, s in [(210, 0.7), (2500, 0.2), (3100, 0.4), (5000, 0.6)]])
    scores = np.sum(keras_reference(model, a) * keras_reference(model, b), axis=1)
    threshold = float(np.median(scores))  # some pairs accepted, some rejected
    base = tmp_path_factory.mktemp("exports")
    path = export_encoder(
        model,
        base,
        "tiny",
        threshold=threshold,
        val_eer=0.125,
        min_samples=MIN_SAMPLES,
        window_seconds=WINDOW_S,
        hop_seconds=HOP_S,
    )
    return {"model": model, "path": path, "base": base, "a": a, "b": b, "threshold": threshold, "rng": rng}


FRESH_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf
    inputs = dict(np.load(sys.argv[2], allow_pickle=True))
    m = tf.saved_model.load(sys.argv[1])
    sig = m.signatures
    out = {"leaked": np.array([k for k in sys.modules if k.startswith("speaker_tf")])}
    out["default"] = sig["serving_default"](waveform=tf.constant(inputs["rows"]))["embedding"].numpy()
    for i, w in enumerate(inputs["single"]):
        out[f"single{i}"] = sig["serving_default"](waveform=tf.constant(w[None, :]))["embedding"].numpy()
    out["windows"] = sig["serving_default"](waveform=tf.constant(inputs["windows"]))["embedding"].numpy()
    out["wav"] = sig["embed_wav"](wav=tf.constant(list(inputs["wavs"])))["embedding"].numpy()
    v = sig["verify"](waveform_a=tf.constant(inputs["a"]), waveform_b=tf.constant(inputs["b"]))
    out["score"], out["accept"] = v["score"].numpy(), v["accept"].numpy()
    out["ea"] = sig["serving_default"](waveform=tf.constant(inputs["a"]))["embedding"].numpy()
    out["eb"] = sig["serving_default"](waveform=tf.constant(inputs["b"]))["embedding"].numpy()
    meta = sig["metadata"](unused=tf.zeros([1]))
    for k, t in meta.items():
        out["meta_" + k] = t.numpy()
    out["var_threshold"] = m.threshold[0].numpy()
    out["var_val_eer"] = m.val_eer[0].numpy()
    np.savez(sys.argv[3], **out)
    """
)


@pytest.fixture(scope="module")
def fresh(exported, tmp_path_factory):
    """Run every signature in a fresh Python that never imports speaker_tf (plain tf.saved_model.load)."""
    rng = np.random.default_rng(1)
    work = tmp_path_factory.mktemp("fresh")
    rows = np.stack([signal(rng, 5000, f, s) for f, s in [(300, 0.05), (1200, 1.0), (4000, 0.4)]])
    short = quantised(signal(rng, 3000, 700, 0.8))  # shorter than the window: embedded whole
    tiny = quantised(signal(rng, 30, 700, 0.8))  # shorter than min_samples: zero-padded
    long = quantised(signal(rng, 9300, 500, 0.6))  # windows start at 0, 2000, 4000 and 5300 (end)
    stereo = np.stack([quantised(signal(rng, 3500, 900, 0.5)), quantised(signal(rng, 3500, 300, 0.5))], 1)
    starts = [0, 2000, 4000, 9300 - WINDOW]
    windows = np.stack([long[s : s + WINDOW] for s in starts])

    wavs = [wav16(short), wav16(tiny), wav16(long), wav16(stereo)]
    single = np.empty(3, dtype=object)
    single[:] = [short, tiny, stereo.mean(axis=1).astype(np.float32)]
    np.savez(
        work / "in.npz",
        rows=rows,
        single=single,
        windows=windows,
        wavs=np.array(wavs, dtype=object),
        a=exported["a"],
        b=exported["b"],
    )
    script = work / "fresh.py"
    script.write_text(FRESH_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(exported["path"]), str(work / "in.npz"), str(work / "out.npz")],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": dict(np.load(work / "out.npz", allow_pickle=True)), "rows": rows}


def test_fresh_process_loads_without_speaker_tf_and_matches_keras(exported, fresh):
    out = fresh["out"]
    assert list(out["leaked"]) == []
    expected = keras_reference(exported["model"], fresh["rows"])
    np.testing.assert_allclose(out["default"], expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out["default"], axis=1), 1.0, atol=1e-6)
    # The rows peak at 0.05, 1.0 and 0.4: matching the peak-normalised reference shows the
    # export normalises raw samples itself.
    assert out["default"].shape == (3, 8)


def test_embed_wav_equals_serving_default(fresh):
    out = fresh["out"]
    wav = out["wav"]
    # Shorter than the window (and shorter than min_samples, zero-padded; and stereo, channels
    # averaged): embed_wav is serving_default of the decoded samples.
    np.testing.assert_array_equal(wav[0], out["single0"][0])
    np.testing.assert_array_equal(wav[1], out["single1"][0])
    np.testing.assert_allclose(wav[3], out["single2"][0], atol=1e-6)
    # Longer than the window: the re-normalised mean of serving_default over the windows.
    mean = out["windows"].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(wav[2], mean / np.linalg.norm(mean), atol=1e-5)


def test_verify_scores_are_cosines_and_accept_uses_threshold(exported, fresh):
    out = fresh["out"]
    ea, eb = out["ea"].astype(np.float64), out["eb"].astype(np.float64)
    cos = np.sum(ea * eb, 1) / (np.linalg.norm(ea, axis=1) * np.linalg.norm(eb, axis=1))
    np.testing.assert_allclose(out["score"], cos, atol=1e-5)
    np.testing.assert_array_equal(out["accept"], out["score"] >= np.float32(exported["threshold"]))
    assert out["accept"].any() and not out["accept"].all()


def test_threshold_and_metadata_readable(exported, fresh):
    out = fresh["out"]
    assert out["var_threshold"] == pytest.approx(exported["threshold"], abs=1e-7)
    assert out["var_val_eer"] == pytest.approx(0.125)
    assert out["meta_threshold"] == out["var_threshold"]
    assert (int(out["meta_window_samples"]), int(out["meta_hop_samples"])) == (WINDOW, HOP)
    assert (int(out["meta_min_samples"]), int(out["meta_sample_rate"])) == (MIN_SAMPLES, SR)
    assert int(out["meta_embedding_dim"]) == 8
    info = layout.read_metadata(exported["path"])
    assert info["threshold"] == pytest.approx(exported["threshold"])
    assert info["model_id"] == layout.compute_model_id(exported["path"])
    assert (info["name"], info["version"], info["window_samples"]) == ("tiny", 1, WINDOW)


def test_warmup_records_parse_and_run(exported):
    from tensorflow_serving.apis import prediction_log_pb2

    loaded = tf.saved_model.load(str(exported["path"]))
    path = exported["path"] / layout.WARMUP_FILE
    seen = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        request = log.predict_log.request
        assert request.model_spec.name == "tiny"
        fn = loaded.signatures[request.model_spec.signature_name]
        _, spec = fn.structured_input_signature
        assert set(request.inputs) == set(spec)
        result = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
        assert set(result) == set(fn.structured_outputs)
        seen.append(request.model_spec.signature_name)
    assert sorted(seen) == sorted(layout.SIGNATURES) == sorted(k for k in loaded.signatures)


def test_only_stock_servable_ops(exported):
    loaded = tf.saved_model.load(str(exported["path"]))
    per_signature = signature_ops(loaded)
    assert set(per_signature) == set(layout.SIGNATURES)
    for name, ops in per_signature.items():
        assert "Conv2D" in ops or name == "metadata"
        assert unservable_ops(ops) == [], name
    assert "DecodeWav" in per_signature["embed_wav"]
    assert unservable_ops(saved_model_ops(exported["path"])) == []

    # The checker itself catches a Python callback and an op no TensorFlow build has.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def with_py(x):
        return tf.py_function(lambda t: t * 2, [x], tf.float32)

    ops = graph_def_ops(with_py.get_concrete_function().graph.as_graph_def())
    assert unservable_ops(ops) == ["EagerPyFunc"]
    assert unservable_ops({"Conv2D", "NoSuchCustomOp"}) == ["NoSuchCustomOp"]


def test_versions_increase_and_existing_version_is_never_overwritten(exported, tmp_path, monkeypatch):
    model = exported["model"]
    kw = {
        "threshold": 0.5,
        "val_eer": 0.1,
        "min_samples": MIN_SAMPLES,
        "window_seconds": WINDOW_S,
        "hop_seconds": HOP_S,
    }
    assert export_encoder(model, tmp_path, "m", **kw) == tmp_path / "m" / "1"
    assert export_encoder(model, tmp_path, "m", **kw) == tmp_path / "m" / "2"
    before = tree_hashes(tmp_path / "m")
    with pytest.raises(ExportError, match="already exists"):
        export_encoder(model, tmp_path, "m", 2, **kw)
    assert tree_hashes(tmp_path / "m") == before
    # A failure half-way leaves neither the version nor a temporary folder behind.
    import speaker_tf.export.warmup as warmup_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(warmup_module, "write_warmup_requests", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        export_encoder(model, tmp_path, "m", 7, **kw)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]
    assert tree_hashes(tmp_path / "m") == before
    assert layout.next_version(tmp_path / "m") == 3
    with pytest.raises(ValueError, match="version"):
        export_encoder(model, tmp_path, "m", 0, **kw)
    with pytest.raises(ValueError, match="model name"):
        export_encoder(model, tmp_path, "../evil", **kw)


def test_saved_model_cli_lists_signatures(exported):
    exe = shutil.which("saved_model_cli")
    cmd = [exe] if exe else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    proc = subprocess.run(
        cmd + ["show", "--all", "--dir", str(exported["path"])], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    for name in layout.SIGNATURES:
        assert f"signature_def['{name}']" in text
    compact = " ".join(text.split())
    assert "inputs['waveform'] tensor_info: dtype: DT_FLOAT shape: (-1, -1)" in compact
    assert "outputs['embedding'] tensor_info: dtype: DT_FLOAT shape: (-1, 8)" in compact
    assert "inputs['wav'] tensor_info: dtype: DT_STRING shape: (-1)" in compact
    assert "outputs['accept'] tensor_info: dtype: DT_BOOL shape: (-1)" in compact
    assert "inputs['waveform_b'] tensor_info: dtype: DT_FLOAT shape: (-1, -1)" in compact


def test_models_config_parses_as_tf_serving_config():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    text = layout.models_config({"a": "/models/a", "b": "/models/b"}, num_versions=2)
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    entries = config.model_config_list.config
    assert [(c.name, c.base_path, c.model_platform) for c in entries] == [
        ("a", "/models/a", "tensorflow"),
        ("b", "/models/b", "tensorflow"),
    ]
    assert entries[0].model_version_policy.latest.num_versions == 2
    example = Path(layout.__file__).with_name("models.config.example").read_text()
    assert (
        len(text_format.Parse(example, model_server_config_pb2.ModelServerConfig()).model_config_list.config)
        >= 2
    )


def test_run_dir_export_via_cli(exported, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli_main, "COMMANDS", {"export": "speaker_tf.cli.export"})
    run = tmp_path / "run"
    run.mkdir()
    assert cli_main.main(["export", str(run), "--out", str(tmp_path / "ex"), "--name", "m"]) == 2
    assert "encoder.keras" in capsys.readouterr().err
    exported["model"].save(run / "encoder.keras")
    with pytest.raises(ExportError, match="metrics.json"):
        load_run_encoder(run)
    (run / "metrics.json").write_text(json.dumps({"eer_threshold": 0.3, "val_eer": 0.2}))
    with pytest.raises(ExportError, match="min_samples"):
        load_run_encoder(run)
    (run / "metrics.json").write_text(json.dumps({"eer_threshold": 0.3, "val_eer": 0.2, "min_samples": 16}))
    args = ["export", str(run), "--out", str(tmp_path / "ex"), "--name", "m", "--window-seconds", "0.25"]
    args += ["--hop-seconds", "0.125"]
    assert cli_main.main(args) == 0
    assert str(tmp_path / "ex" / "m" / "1") in capsys.readouterr().out
    info = layout.read_metadata(tmp_path / "ex" / "m" / "1")
    assert (info["threshold"], info["val_eer"], info["min_samples"]) == (0.3, 0.2, 16)
    assert cli_main.main(args + ["--version", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and "\n" not in err and "Traceback" not in err
