"""`speaker-tf metrics` / `speaker-tf score` commands and the shared model loader."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
from harness import tone_corpus

from speaker_tf.cli import metrics as metrics_cli
from speaker_tf.cli import score as score_cli
from speaker_tf.errors import CorpusError, ExportError
from speaker_tf.evaluation.metrics import compute_eer, compute_min_dcf
from speaker_tf.evaluation.scoring import Trial, read_score_file, write_score_file, write_trials


def _parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def _score_file(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=50)
    labels[:2] = [0, 1]
    scores = rng.normal(size=50) + labels
    trials = [Trial(int(y), f"e{i}.wav", f"t{i}.wav") for i, y in enumerate(labels)]
    path = tmp_path / "scores.txt"
    write_score_file(path, scores, trials)
    return path, scores, labels


def test_metrics_cli_prints_same_eer_as_compute_eer(tmp_path, capsys):
    path, scores, labels = _score_file(tmp_path)
    eer, _ = compute_eer(scores, labels)
    assert metrics_cli.run(_parse(metrics_cli, [str(path)])) == 0
    table = capsys.readouterr().out
    assert f"{100 * eer:.4f} %" in table
    assert metrics_cli.run(_parse(metrics_cli, [str(path), "--json"])) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["eer"] == eer
    assert report["min_dcf_p01"] == compute_min_dcf(scores, labels, p_target=0.01)[0]


def test_metrics_cli_errors_name_the_file(tmp_path):
    p = tmp_path / "only_targets.txt"
    p.write_text("0.5 1 a b\n0.7 1 a c\n")
    with pytest.raises(CorpusError, match="only_targets.txt.*no non-target"):
        metrics_cli.run(_parse(metrics_cli, [str(p)]))


def test_cli_modules_do_not_import_tensorflow():
    code = (
        "import sys, argparse\n"
        "from speaker_tf.cli import metrics, score\n"
        "for m in (metrics, score):\n"
        "    m.add_arguments(argparse.ArgumentParser()); assert m.HELP\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


# ---------------------------------------------------------------- models on disk


def _tiny_encoder():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((None,), name="waveform")
    h = keras.layers.Reshape((-1, 1))(inputs)
    h = keras.layers.Conv1D(6, 64, strides=32, activation="relu")(h)
    out = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(inputs, out)


def _corpus(root):
    """3 "speakers" = 3 tone frequencies, 2 utterances each, 16 kHz mono."""
    return tone_corpus(root)


def test_score_cli_with_keras_file(tmp_path, capsys):
    model = _tiny_encoder()
    model_path = tmp_path / "encoder.keras"
    model.save(model_path)
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    out = tmp_path / "scores.txt"
    argv = [
        "--model",
        str(model_path),
        "--trials",
        str(tmp_path / "trials.txt"),
        "--root",
        str(tmp_path / "audio"),
        "--out",
        str(out),
        "--window",
        "0.25",
        "--hop",
        "0.125",
    ]
    assert score_cli.run(_parse(score_cli, argv)) == 0
    printed = capsys.readouterr().out
    scores, labels = read_score_file(out)
    assert len(scores) == len(trials) == 15
    np.testing.assert_array_equal(labels, [t.label for t in trials])
    assert f"{100 * compute_eer(scores, labels)[0]:.4f} %" in printed
    paths = [line.split()[2:] for line in out.read_text().splitlines()]
    assert paths == [[t.enroll, t.test] for t in trials]
    assert np.all(np.abs(scores) <= 1 + 1e-6)


def test_load_embedder_saved_model_contract(tmp_path):
    import tensorflow as tf

    from speaker_tf.evaluation.embedder import load_embedder

    w = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)

    class Exported(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(w)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
        def serve(self, waveform):
            frames = tf.reshape(
                waveform[:, : (tf.shape(waveform)[1] // 4) * 4], [tf.shape(waveform)[0], -1, 4]
            )
            return {"embedding": tf.reduce_mean(frames, axis=1) @ self.w}

    module = Exported()
    export_dir = tmp_path / "export"
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.serve})
    embed = load_embedder(export_dir)
    batch = np.random.default_rng(1).normal(size=(2, 40)).astype(np.float32)
    want = batch.reshape(2, -1, 4).mean(axis=1) @ w
    np.testing.assert_allclose(embed(batch), want, rtol=1e-5, atol=1e-6)


def test_load_embedder_errors(tmp_path):
    from speaker_tf.evaluation.embedder import load_embedder

    with pytest.raises(ExportError, match="does not exist"):
        load_embedder(tmp_path / "nothing")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ExportError, match="saved_model.pb"):
        load_embedder(tmp_path / "empty_dir")
    (tmp_path / "model.h5").write_bytes(b"")
    with pytest.raises(ExportError, match="is a file but not a .keras model"):
        load_embedder(tmp_path / "model.h5")


def test_score_cli_cohort_normalisation_matches_brute_force(tmp_path, capsys):
    """--cohort: S-norm of every raw score against one mean embedding per cohort speaker."""
    from speaker_tf.evaluation.embedder import load_embedder
    from speaker_tf.evaluation.scoring import embed_utterances

    model = _tiny_encoder()
    model.save(tmp_path / "encoder.keras")
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    _corpus(tmp_path / "cohort")  # 3 cohort speakers, 2 utterances each
    base = ["--model", str(tmp_path / "encoder.keras"), "--trials", str(tmp_path / "trials.txt")]
    base += ["--root", str(tmp_path / "audio")]
    assert score_cli.run(_parse(score_cli, [*base, "--out", str(tmp_path / "raw.txt")])) == 0
    argv = [*base, "--out", str(tmp_path / "norm.txt"), "--cohort", str(tmp_path / "cohort")]
    assert score_cli.run(_parse(score_cli, argv)) == 0
    assert "S-norm with 3 cohort speakers" in capsys.readouterr().out
    raw, _ = read_score_file(tmp_path / "raw.txt")
    normed, _ = read_score_file(tmp_path / "norm.txt")

    embed = load_embedder(tmp_path / "encoder.keras")
    utts = {t.enroll for t in trials} | {t.test for t in trials}
    emb = embed_utterances(embed, sorted(utts), root=tmp_path / "audio")
    cohort_files = embed_utterances(embed, sorted(utts), root=tmp_path / "cohort")
    cohort = []
    for spk in ("id0", "id1", "id2"):
        mean = np.mean([v for k, v in cohort_files.items() if k.startswith(spk + "/")], axis=0)
        cohort.append(mean / np.linalg.norm(mean))
    for s, n, t in zip(raw, normed, trials, strict=True):
        ce = np.array([emb[t.enroll] @ c for c in cohort])
        ct = np.array([emb[t.test] @ c for c in cohort])
        expected = 0.5 * ((s - ce.mean()) / ce.std() + (s - ct.mean()) / ct.std())
        assert n == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_score_out_never_replaces_inputs_or_existing_files(tmp_path, monkeypatch):
    """--out is checked before any model is loaded: inputs are refused even with --force."""
    import speaker_tf.evaluation.embedder as embedder
    from speaker_tf.errors import OutputExistsError

    model = _tiny_encoder()
    model.save(tmp_path / "encoder.keras")
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    _corpus(tmp_path / "cohort")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    base = ["--model", str(tmp_path / "encoder.keras"), "--trials", str(tmp_path / "trials.txt")]
    base += ["--root", str(tmp_path / "audio"), "--cohort", str(tmp_path / "cohort")]

    def no_model(path):
        raise AssertionError("the model was loaded before --out was checked")

    monkeypatch.setattr(embedder, "load_embedder", no_model)
    no_input = "refusing to write over an input"
    refused = {
        "trials.txt": f"--out {str(tmp_path / 'trials.txt')!r} is the trial list; {no_input}",
        "encoder.keras": f"--out {str(tmp_path / 'encoder.keras')!r} is the model; {no_input}",
        "audio/id1/s0/u.wav": f"--out {str(tmp_path / 'audio/id1/s0/u.wav')!r} is the trial audio file; "
        f"{no_input}",
        "cohort/scores.txt": f"--out {str(tmp_path / 'cohort/scores.txt')!r} is inside the cohort "
        f"{str(tmp_path / 'cohort')!r}; write it somewhere else",
        "missing/scores.txt": f"--out {str(tmp_path / 'missing/scores.txt')!r}: folder "
        f"{str(tmp_path / 'missing')!r} does not exist",
        "audio": f"--out {str(tmp_path / 'audio')!r} is a folder; give a file name",
    }
    for rel, message in refused.items():
        with pytest.raises(ValueError) as info:
            score_cli.run(_parse(score_cli, [*base, "--out", str(tmp_path / rel), "--force"]))
        assert str(info.value) == message
    existing = tmp_path / "old_scores.txt"
    existing.write_text("keep me\n")
    with pytest.raises(OutputExistsError, match="old_scores.txt' exists; pass --force to overwrite it"):
        score_cli.run(_parse(score_cli, [*base, "--out", str(existing)]))
    assert existing.read_text() == "keep me\n"
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "cohort" / "scores.txt").exists()

    monkeypatch.undo()  # --force replaces an existing output that is no input
    assert score_cli.run(_parse(score_cli, [*base, "--out", str(existing), "--force"])) == 0
    scores, labels = read_score_file(existing)
    assert len(scores) == len(trials) and labels.tolist() == [t.label for t in trials]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_score_cli_fuse_baseline_applies_the_runs_fusion(tmp_path, capsys):
    """--fuse-baseline: the written scores are w_a z(model) + w_b z(MFCC) + b, recomputed here by hand."""
    from speaker_tf.data.baseline import score_trials
    from speaker_tf.evaluation.fusion import Fusion

    run = tmp_path / "run"
    run.mkdir()
    _tiny_encoder().save(run / "encoder.keras")
    (run / "metrics.json").write_text("{}")
    fusion = Fusion(mean_a=0.5, std_a=0.2, mean_b=0.1, std_b=0.3, weight_a=2.0, weight_b=-1.0, bias=0.25)
    fusion.save(run / "fusion.json")
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    common = ["--trials", str(tmp_path / "trials.txt"), "--root", str(tmp_path / "audio"), "--window", "0.25"]
    plain, fused = tmp_path / "plain.txt", tmp_path / "fused.txt"
    assert score_cli.run(_parse(score_cli, ["--model", str(run), "--out", str(plain), *common])) == 0
    argv = ["--model", str(run), "--out", str(fused), "--fuse-baseline", *common]
    assert score_cli.run(_parse(score_cli, argv)) == 0
    printed = capsys.readouterr().out
    model_scores, labels = read_score_file(plain)
    mfcc = score_trials(trials, tmp_path / "audio")
    expected = 2.0 * (model_scores - 0.5) / 0.2 - 1.0 * (mfcc - 0.1) / 0.3 + 0.25
    fused_scores, _ = read_score_file(fused)
    np.testing.assert_allclose(fused_scores, expected, rtol=1e-5, atol=1e-5)
    assert f"model alone: EER {100 * compute_eer(model_scores, labels)[0]:.2f} %" in printed
    assert f"{100 * compute_eer(expected, labels)[0]:.4f} %" in printed


def test_score_cli_fuse_baseline_errors(tmp_path):
    model = tmp_path / "m.keras"
    _tiny_encoder().save(model)
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    common = ["--trials", str(tmp_path / "trials.txt"), "--root", str(tmp_path / "audio")]
    argv = ["--model", str(model), "--out", str(tmp_path / "s.txt"), "--fuse-baseline", *common]
    with pytest.raises(ValueError, match="not a training run; give the run's fusion.json"):
        score_cli.run(_parse(score_cli, argv))
    with pytest.raises(ValueError, match="do not combine"):
        score_cli.run(_parse(score_cli, [*argv, "--cohort", str(tmp_path / "audio")]))


def test_score_cli_standardise_matches_brute_force(tmp_path, capsys):
    """--standardise list / FOLDER: each dimension z-scored with that set's statistics, then cosine."""
    from speaker_tf.evaluation.embedder import load_embedder
    from speaker_tf.evaluation.scoring import embed_utterances

    _tiny_encoder().save(tmp_path / "encoder.keras")
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    tone_corpus(
        tmp_path / "domain" / "unlabelled", freqs=(300.0, 1200.0, 3000.0)
    )  # "the user's domain": 6 files
    base = ["--model", str(tmp_path / "encoder.keras"), "--trials", str(tmp_path / "trials.txt")]
    base += ["--root", str(tmp_path / "audio")]
    out_list, out_dir = tmp_path / "list.txt", tmp_path / "dir.txt"
    assert score_cli.run(_parse(score_cli, [*base, "--out", str(out_list), "--standardise", "list"])) == 0
    assert "standardised on the trial list's 6 utterances" in capsys.readouterr().out
    argv = [*base, "--out", str(out_dir), "--standardise", str(tmp_path / "domain")]
    assert score_cli.run(_parse(score_cli, argv)) == 0
    assert f"standardised on 6 files of {tmp_path / 'domain'}" in capsys.readouterr().out

    embed = load_embedder(tmp_path / "encoder.keras")
    utts = sorted({u for t in trials for u in (t.enroll, t.test)})
    emb = embed_utterances(embed, utts, root=tmp_path / "audio")
    domain = embed_utterances(embed, utts, root=tmp_path / "domain" / "unlabelled")
    for path, reference in ((out_list, list(emb.values())), (out_dir, list(domain.values()))):
        ref = np.array(reference, dtype=np.float64)
        mean, std = ref.mean(axis=0), ref.std(axis=0)
        got, labels = read_score_file(path)
        assert labels.tolist() == [t.label for t in trials]
        for score, t in zip(got, trials, strict=True):
            a, b = (emb[t.enroll] - mean) / std, (emb[t.test] - mean) / std
            assert score == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-6)
    # the list's own statistics and the domain folder's differ, so do the scores
    assert not np.allclose(read_score_file(out_list)[0], read_score_file(out_dir)[0])


def test_score_cli_standardise_errors_name_the_source(tmp_path):
    from speaker_tf.errors import AudioError

    model = tmp_path / "m.keras"
    _tiny_encoder().save(model)
    trials = _corpus(tmp_path / "audio")
    write_trials(tmp_path / "trials.txt", trials)
    common = [
        "--model",
        str(model),
        "--trials",
        str(tmp_path / "trials.txt"),
        "--root",
        str(tmp_path / "audio"),
    ]
    common += ["--out", str(tmp_path / "s.txt")]
    missing = tmp_path / "nowhere"
    with pytest.raises(CorpusError, match=f"--standardise {str(missing)!r}: not 'list' and not a folder"):
        score_cli.run(_parse(score_cli, [*common, "--standardise", str(missing)]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioError, match="folder .*empty.* contains no audio files"):
        score_cli.run(_parse(score_cli, [*common, "--standardise", str(tmp_path / "empty")]))
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "a.wav").write_bytes((tmp_path / "audio" / trials[0].enroll).read_bytes())
    with pytest.raises(CorpusError, match="holds 1 audio file; a standard deviation needs at least 2"):
        score_cli.run(_parse(score_cli, [*common, "--standardise", str(tmp_path / "one")]))
    for flag in (["--cohort", str(tmp_path / "audio")], ["--fuse-baseline", str(tmp_path / "f.json")]):
        with pytest.raises(ValueError, match=f"--standardise and {flag[0]} do not combine"):
            score_cli.run(_parse(score_cli, [*common, "--standardise", "list", *flag]))
    # the score file lands inside the standardisation folder: refused, nothing written
    inside = ["--out", str(tmp_path / "audio" / "scores.txt"), "--standardise", str(tmp_path / "audio")]
    with pytest.raises(ValueError, match="is inside the standardisation folder"):
        score_cli.run(_parse(score_cli, [*common[:-2], *inside]))
    assert not (tmp_path / "s.txt").exists() and not (tmp_path / "audio" / "scores.txt").exists()
