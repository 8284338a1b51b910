"""`speaker-tf embed / verify / enroll / identify` on an export of a tiny encoder.

References are computed independently: samples read with soundfile (+ soxr for
other rates), embedded through the export's ``serving_default`` signature.
"""

from __future__ import annotations

import json
import re
import sqlite3

import keras
import numpy as np
import pytest
import soundfile as sf
import soxr
import tensorflow as tf

from speaker_tf.cli import main as cli_main
from speaker_tf.export.saved_model import export_encoder

SR = 16000
WINDOW = 4000
MIN_SAMPLES = 44
THRESHOLD = 0.9


def tiny_encoder(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(None,), name="waveform")
    x = keras.layers.Reshape((-1, 1))(inp)
    x = keras.layers.Conv1D(8, 16, strides=4, activation="tanh")(x)
    x = keras.layers.Conv1D(8, 8, strides=4, activation="tanh")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, keras.layers.Dense(8)(x))


def export(base, name: str, seed: int):
    return export_encoder(
        tiny_encoder(seed),
        base,
        name,
        threshold=THRESHOLD,
        val_eer=0.05,
        min_samples=MIN_SAMPLES,
        window_seconds=WINDOW / SR,
        hop_seconds=WINDOW / SR / 2,
    )


def voice(rng: np.random.Generator, seconds: float, f0: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3)) + 0.2 * rng.standard_normal(t.size)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture(autouse=True)
def only_export_commands(monkeypatch):
    """main() builds every subcommand; these tests need only the export tools."""
    names = ("export", "embed", "verify", "enroll", "identify", "score")
    monkeypatch.setattr(cli_main, "COMMANDS", {n: f"speaker_tf.cli.{n}" for n in names})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("tools")
    rng = np.random.default_rng(0)
    model_dir = export(root / "exports", "spk", seed=0).parent
    audio = root / "audio"
    (audio / "alice" / "deep").mkdir(parents=True)
    (audio / "bob").mkdir()
    files = {
        "a1": audio / "alice" / "a1.wav",
        "a2": audio / "alice" / "deep" / "a2.flac",
        "a3": audio / "alice" / "a3_long.wav",  # longer than the window: windowed mean
        "b1": audio / "bob" / "b1_44k_stereo.wav",  # resampled and mixed to mono
        "b2": audio / "bob" / "b2.wav",
    }
    sf.write(files["a1"], voice(rng, 0.2, 180), SR, subtype="PCM_16")
    sf.write(files["a2"], voice(rng, 0.15, 190), SR, subtype="PCM_16")
    sf.write(files["a3"], voice(rng, 0.6, 185), SR, subtype="PCM_16")
    stereo = np.stack([voice(rng, 0.2, 900, 44100), voice(rng, 0.2, 950, 44100)], axis=1)
    sf.write(files["b1"], stereo, 44100, subtype="PCM_16")
    sf.write(files["b2"], voice(rng, 0.2, 1000), SR, subtype="PCM_16")
    (audio / "notes.txt").write_text("not audio, skipped when scanning folders")

    loaded = tf.saved_model.load(str(model_dir / "1"))
    default = loaded.signatures["serving_default"]

    def reference(path) -> np.ndarray:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        x = data.mean(axis=1)
        if rate != SR:
            x = soxr.resample(x, rate, SR, quality="HQ").astype(np.float32)
        if len(x) <= WINDOW:
            rows = x[None, :]
        else:
            starts = list(range(0, len(x) - WINDOW + 1, WINDOW // 2))
            if starts[-1] != len(x) - WINDOW:
                starts.append(len(x) - WINDOW)
            rows = np.stack([x[s : s + WINDOW] for s in starts])
        e = default(waveform=tf.constant(rows))["embedding"].numpy().astype(np.float64).mean(axis=0)
        return e / np.linalg.norm(e)

    refs = {k: reference(p) for k, p in files.items()}
    return {"root": root, "model_dir": model_dir, "audio": audio, "files": files, "refs": refs}


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli_main.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_embed_folders_recursively_keys_are_paths(setup, tmp_path, capsys):
    out = tmp_path / "emb.npz"
    code, stdout, err = run_cli(capsys, "embed", setup["model_dir"], setup["audio"], "--out", out)
    assert code == 0, err
    assert "5/5" in err  # progress bar on stderr
    with np.load(out) as npz:
        stored = {k: npz[k] for k in npz.files}
    assert set(stored) == {str(p) for p in setup["files"].values()}
    for key, path in setup["files"].items():
        np.testing.assert_allclose(stored[str(path)], setup["refs"][key], atol=1e-5, err_msg=key)

    # An existing --out is refused (one line, names --force) and left as it was.
    before = out.read_bytes()
    code, _, err = run_cli(capsys, "embed", setup["model_dir"], setup["files"]["a1"], "--out", out)
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    code, _, err = run_cli(capsys, "embed", setup["model_dir"], setup["files"]["a1"], "--out", out, "--force")
    assert code == 0, err
    with np.load(out) as npz:
        assert npz.files == [str(setup["files"]["a1"])]


def test_verify_prints_score_threshold_decision(setup, capsys):
    f, refs = setup["files"], setup["refs"]
    code, out, err = run_cli(capsys, "verify", setup["model_dir"] / "1", f["a1"], f["b1"])
    assert code == 0, err
    score = float(re.search(r"score\s+(-?[\d.]+)", out).group(1))
    assert score == pytest.approx(float(refs["a1"] @ refs["b1"]), abs=1e-5)
    assert float(re.search(r"threshold\s+([\d.]+)", out).group(1)) == pytest.approx(THRESHOLD)
    expected = "same speaker" if score >= THRESHOLD else "different speakers"
    assert re.search(r"decision\s+(.+)", out).group(1).strip() == expected


def test_enroll_then_identify_ranks_by_cosine_of_mean(setup, tmp_path, capsys):
    f, refs, model_dir = setup["files"], setup["refs"], setup["model_dir"]
    store = tmp_path / "store.sqlite"
    assert (
        run_cli(capsys, "enroll", model_dir, "--speaker", "alice", f["a1"], f["a2"], "--store", store)[0] == 0
    )
    assert run_cli(capsys, "enroll", model_dir, "--speaker", "bob", f["b1"], "--store", store)[0] == 0
    code, out, err = run_cli(capsys, "identify", model_dir, f["b2"], "--store", store)
    assert code == 0, err

    def expected_ranking(models):
        q = refs["b2"]
        scores = {n: float(q @ m / np.linalg.norm(m)) for n, m in models.items()}
        return sorted(scores.items(), key=lambda kv: -kv[1])

    rows = re.findall(r"^\s*(\d+)\s+(-?[\d.]+)\s+(\S+)", out, flags=re.M)
    want = expected_ranking({"alice": (refs["a1"] + refs["a2"]) / 2, "bob": refs["b1"]})
    assert [r[2] for r in rows] == [n for n, _ in want]
    np.testing.assert_allclose([float(r[1]) for r in rows], [s for _, s in want], atol=1e-5)

    # Enrolling again adds to the running mean; the same file twice is not counted twice.
    assert (
        run_cli(capsys, "enroll", model_dir, "--speaker", "alice", f["a3"], f["a1"], "--store", store)[0] == 0
    )
    with sqlite3.connect(store) as db:
        counts = dict(db.execute("SELECT speaker, COUNT(*) FROM utterances GROUP BY speaker").fetchall())
    assert counts == {"alice": 3, "bob": 1}
    code, out, _ = run_cli(capsys, "identify", model_dir, f["b2"], "--store", store, "--top", "1")
    rows = re.findall(r"^\s*(\d+)\s+(-?[\d.]+)\s+(\S+)", out, flags=re.M)
    want = expected_ranking({"alice": (refs["a1"] + refs["a2"] + refs["a3"]) / 3, "bob": refs["b1"]})
    assert len(rows) == 1 and rows[0][2] == want[0][0]
    assert float(rows[0][1]) == pytest.approx(want[0][1], abs=1e-5)


def test_default_store_beside_versions_and_other_export_refused(setup, tmp_path, capsys):
    f = setup["files"]
    base = tmp_path / "exports"
    first = export(base, "m", seed=0)
    assert run_cli(capsys, "enroll", first.parent, "--speaker", "alice", f["a1"])[0] == 0
    assert (first.parent / "enrollments.sqlite").is_file()
    second = export(base, "m", seed=1)  # new weights: version 2, another model id
    code, _, err = run_cli(capsys, "enroll", second, "--speaker", "bob", f["b1"])
    assert code == 2 and "holds embeddings of export 'm v1'" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "identify", first.parent, f["b1"])  # latest version is 2
    assert code == 2 and "use --store" in err
    code, out, err = run_cli(capsys, "identify", first, f["b1"])
    assert code == 0 and "alice" in out, err


def test_bad_inputs_give_one_line_errors(setup, tmp_path, capsys):
    model_dir, f = setup["model_dir"], setup["files"]
    bad = tmp_path / "bad.wav"
    bad.write_text("this is not a wav file")
    short = tmp_path / "short.wav"
    sf.write(short, voice(np.random.default_rng(1), 20 / SR, 300), SR, subtype="PCM_16")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(3200, np.float32), SR, subtype="PCM_16")
    not_export = tmp_path / "not_export"
    not_export.mkdir()
    (not_export / "readme.txt").write_text("no model here")
    other = tmp_path / "other_model"
    tf.saved_model.save(tf.Module(), str(other))
    out = tmp_path / "e.npz"
    cases = [
        (["embed", model_dir, bad, "--out", out], "bad.wav"),
        (["verify", model_dir, f["a1"], short], "too short"),
        (["enroll", model_dir, "--speaker", "x", silent, "--store", tmp_path / "s.sqlite"], "silent"),
        (["identify", model_dir, tmp_path / "missing.wav", "--store", tmp_path / "s.sqlite"], "missing.wav"),
        (["verify", tmp_path / "no_such_export", f["a1"], f["a2"]], "no_such_export"),
        (["embed", not_export, f["a1"], "--out", out], "is a folder without encoder.keras"),
        (["verify", other, f["a1"], f["a2"]], "lacks signature"),
        (["identify", model_dir, f["a1"], "--store", tmp_path / "none.sqlite"], "does not exist"),
        (["enroll", model_dir, "--speaker", "x", f["a1"], "--store", bad], "not a usable SQLite"),
    ]
    for args, needle in cases:
        code, _, err = run_cli(capsys, *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith(f"speaker-tf {args[0]}: error:"), err
        assert needle in err, (needle, err)
    assert not out.exists()
    assert not (tmp_path / "s.sqlite").exists() or sqlite3.connect(tmp_path / "s.sqlite").execute(
        "SELECT COUNT(*) FROM utterances"
    ).fetchone() == (0,)


def _run_dir(path, seed: int):
    """A training run folder as `speaker-tf train` leaves it, for the tiny encoder."""
    path.mkdir(parents=True)
    tiny_encoder(seed).save(path / "encoder.keras")
    metrics = {"eer_threshold": THRESHOLD, "val_eer": 0.05, "min_samples": MIN_SAMPLES}
    (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def test_run_folder_and_its_encoder_serve_like_the_export(setup, tmp_path, capsys):
    """verify / embed accept a run folder and RUN/encoder.keras: same numbers as the export."""
    f, refs = setup["files"], setup["refs"]
    run = _run_dir(tmp_path / "run", seed=0)  # the weights of the fixture's export
    for model in (run, run / "encoder.keras"):
        code, out, err = run_cli(capsys, "verify", model, f["a1"], f["b1"])
        assert code == 0, err
        assert float(re.search(r"score\s+(-?[\d.]+)", out).group(1)) == pytest.approx(
            float(refs["a1"] @ refs["b1"]), abs=1e-5
        )
        assert f"EER threshold of run {run}" in out
    out_file = tmp_path / "run.npz"
    assert run_cli(capsys, "embed", run, f["a1"], f["b2"], "--out", out_file)[0] == 0
    with np.load(out_file) as npz:
        for key in ("a1", "b2"):  # both shorter than either window: embedded whole
            np.testing.assert_allclose(npz[str(f[key])], refs[key], atol=1e-5)
    # A .keras file outside a run has no decision threshold: said so, with what to pass instead.
    loose = tmp_path / "loose.keras"
    tiny_encoder(0).save(loose)
    code, _, err = run_cli(capsys, "verify", loose, f["a1"], f["b1"])
    assert code == 2 and err == (
        f"speaker-tf verify: error: model {str(loose)!r} has no metrics.json beside it, so no decision "
        "threshold; pass its training run folder or an export EXPORT_BASE/NAME[/VERSION]\n"
    )


def test_score_takes_export_base_as_latest_version(setup, tmp_path, capsys):
    f = setup["files"]
    base = tmp_path / "exports"
    export(base, "m", seed=0)
    export(base, "m", seed=1)  # version 2: what EXPORT_BASE/m means
    trials = tmp_path / "trials.txt"
    rel = {k: f[k].relative_to(setup["audio"]).as_posix() for k in ("a1", "a2", "a3", "b2")}
    trials.write_text(f"1 {rel['a1']} {rel['a2']}\n0 {rel['a1']} {rel['b2']}\n0 {rel['a3']} {rel['b2']}\n")
    texts = {}
    for name, model in (("base", base / "m"), ("v1", base / "m" / "1"), ("v2", base / "m" / "2")):
        out = tmp_path / f"{name}.txt"
        code, _, err = run_cli(
            capsys, "score", "--model", model, "--trials", trials, "--root", setup["audio"], "--out", out
        )
        assert code == 0, err
        texts[name] = out.read_text()
    assert texts["base"] == texts["v2"] != texts["v1"]


def test_model_and_audio_argument_errors(setup, tmp_path, capsys):
    f, model_dir = setup["files"], setup["model_dir"]
    code, _, err = run_cli(capsys, "verify", model_dir, f["a1"], setup["audio"] / "bob")
    assert code == 2
    assert (
        err
        == f"speaker-tf verify: error: audio file {str(setup['audio'] / 'bob')!r} is a folder, not a file\n"
    )
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    trials = tmp_path / "trials.txt"
    trials.write_text("1 a.wav b.wav\n")
    args = ["score", "--model", notes, "--trials", trials, "--root", tmp_path, "--out", tmp_path / "s.txt"]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and err == (
        f"speaker-tf score: error: model {str(notes)!r} is a file but not a .keras model; expected a "
        "training run folder (RUN with encoder.keras), a .keras file, or an export folder "
        "EXPORT_BASE/NAME[/VERSION]\n"
    )
