"""benchmarks/generalisation.py end to end, on finished runs given with --run (no training).

Every figure it prints is recomputed here by brute force: whole-utterance embeddings of the run's
encoder (`data.eval_seconds=0`) of peak-normalised audio, cosine scores, the MFCC baseline's scores
and the run's fusion (w_a z(model) + w_b z(baseline) + b), on each trial list it names; and both systems
standardised per dimension on the list's own utterances or on the run's training utterances.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import tone_corpus

from speaker_tf.evaluation.metrics import compute_eer
from speaker_tf.evaluation.scoring import read_trials, write_trials

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "generalisation.py"
FUSION = {
    "mean_a": 0.5,
    "std_a": 0.2,
    "mean_b": 0.1,
    "std_b": 0.3,
    "weight_a": 2.0,
    "weight_b": -1.0,
    "bias": 0.25,
}


def _run_dir(root: Path, corpus: Path) -> Path:
    """A finished run as the benchmark reads it: config.json, encoder.keras, fusion.json."""
    import keras

    from speaker_tf.config.base import ExperimentConfig
    from speaker_tf.evaluation.fusion import Fusion

    run = root / "run"
    run.mkdir()
    config = ExperimentConfig().override({"data.root": str(corpus), "data.eval_seconds": 0.0})
    (run / "config.json").write_text(json.dumps(config.to_dict()))
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None,), name="waveform")
    h = keras.layers.Reshape((-1, 1))(inputs)
    h = keras.layers.Conv1D(8, 64, strides=32, activation="relu")(h)
    keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(h)).save(run / "encoder.keras")
    Fusion(**FUSION).save(run / "fusion.json")
    return run


def _tone_list(root: Path) -> Path:
    """A trial list of the user's own: 3 "speakers" = 3 tone frequencies, 3 utterances each."""
    write_trials(root / "trials.txt", tone_corpus(root, freqs=(180.0, 700.0, 2500.0), utterances=3))
    return root / "trials.txt"


def _z_cosine(a: np.ndarray, b: np.ndarray, reference: np.ndarray) -> float:
    """Cosine of two vectors, each dimension z-scored with the reference rows' mean and population std."""
    mean = reference.mean(axis=0)
    std = np.sqrt(((reference - mean) ** 2).mean(axis=0))
    a, b = (a - mean) / std, (b - mean) / std
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _expected(run: Path, trials_path: Path, root: Path, corpus: Path) -> dict[str, float]:
    import keras

    from speaker_tf.data.audio import load_audio
    from speaker_tf.data.baseline import score_trials, utterance_embeddings

    model = keras.saving.load_model(run / "encoder.keras")

    def embed(path: Path) -> np.ndarray:
        wave = load_audio(path, 16000)
        e = np.asarray(model((wave / np.abs(wave).max())[None]))[0]  # peak-normalised, as training reads it
        return e / np.linalg.norm(e)

    trials = read_trials(trials_path)
    labels = np.array([t.label for t in trials])
    embedding = {utt: embed(root / utt) for utt in {u for t in trials for u in (t.enroll, t.test)}}
    model_scores = np.array([embedding[t.enroll] @ embedding[t.test] for t in trials])
    baseline = score_trials(trials, root)
    # the footing table: fewer than 400 training files, so the reference is every one of them
    train_files = sorted((corpus / "train").rglob("*.wav"))
    assert 2 <= len(train_files) < 400
    train_embeddings = np.stack([embed(f) for f in train_files])
    train_mfcc = utterance_embeddings(train_files)
    utts = sorted(embedding)
    own = np.stack([embedding[u] for u in utts])
    mfcc = dict(zip(utts, utterance_embeddings([root / u for u in utts]), strict=True))
    footing = {
        "model_standardised_list_eer": [
            _z_cosine(embedding[t.enroll], embedding[t.test], own) for t in trials
        ],
        "model_standardised_train_eer": [
            _z_cosine(embedding[t.enroll], embedding[t.test], train_embeddings) for t in trials
        ],
        "baseline_standardised_train_eer": [
            _z_cosine(mfcc[t.enroll], mfcc[t.test], train_mfcc) for t in trials
        ],
    }
    f = FUSION
    fused = (
        f["weight_a"] * (model_scores - f["mean_a"]) / f["std_a"]
        + f["weight_b"] * (baseline - f["mean_b"]) / f["std_b"]
        + f["bias"]
    )
    systems = {"model_eer": model_scores, "baseline_eer": baseline, "fused_eer": fused, **footing}
    return {name: 100 * compute_eer(np.asarray(scores), labels)[0] for name, scores in systems.items()} | {
        "n_trials": len(trials)
    }


@pytest.mark.slow
def test_benchmark_scores_every_row_of_every_run_side_by_side(tmp_path, tiny_corpus):
    from speaker_tf.data.synth import generate_heldout_corpus

    heldout = generate_heldout_corpus(
        tmp_path / "heldout", speakers=6, utterances=4, seed=3, report_baseline=False, verbose=False
    )
    run = _run_dir(tmp_path, tiny_corpus)
    tones = _tone_list(tmp_path / "tones")
    argv = [sys.executable, str(SCRIPT), "--out", str(tmp_path / "out"), "--heldout", str(heldout)]
    argv += ["--recipes", "first", "second", "--run", f"first={run}", "--run", f"second={run}"]
    argv += ["--trials", f"tones={tones}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    rows = {(r["recipe"], r["trials"]): r for r in lines if "trials" in r}

    lists = {
        "own test": (tiny_corpus / "test" / "trials.txt", tiny_corpus / "test"),
        "held-out": (heldout / "test" / "trials.txt", heldout / "test"),
        "held-out, same channel": (heldout / "test" / "trials_same_channel.txt", heldout / "test"),
        "tones": (tones, tones.parent),
    }
    assert set(rows) == {(recipe, name) for recipe in ("first", "second") for name in lists}
    for name, (trials_path, root) in lists.items():
        expected = _expected(run, trials_path, root, tiny_corpus)
        for recipe in ("first", "second"):
            got = rows[recipe, name]
            assert got["n_trials"] == expected["n_trials"]
            for key in set(expected) - {"n_trials"}:
                assert got[key] == pytest.approx(expected[key], abs=1e-6), (recipe, name, key)
        # the Markdown table: one line per trial list, both runs' columns side by side
        e = expected
        cells = f"| {name} | {e['model_eer']:.2f} | {e['model_eer']:.2f} | {e['baseline_eer']:.2f} |"
        assert cells in done.stdout
        footing = (
            f"| first | {name} | {e['model_eer']:.2f} | {e['model_standardised_list_eer']:.2f} "
            f"| {e['model_standardised_train_eer']:.2f} | {e['baseline_eer']:.2f} "
            f"| {e['baseline_standardised_train_eer']:.2f} |"
        )
        assert footing in done.stdout
    assert f"held-out corpus {heldout}: reused as made with" in done.stdout
    # nothing was trained: no recipe folder under --out
    assert not (tmp_path / "out" / "first").exists() and not (tmp_path / "out" / "second").exists()


def test_benchmark_refuses_a_training_corpus_as_the_held_out_corpus(tmp_path, tiny_corpus):
    argv = [sys.executable, str(SCRIPT), "--out", str(tmp_path / "out"), "--heldout", str(tiny_corpus)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"--heldout {str(tiny_corpus)!r} holds a corpus that is not a held-out corpus" in done.stderr
    assert not (tmp_path / "out").exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text("{")
    argv[argv.index(str(tiny_corpus))] = str(broken)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and f"{str(broken / 'meta.json')!r} is unreadable" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
