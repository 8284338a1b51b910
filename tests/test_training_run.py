"""End-to-end: `python -m experiments.exp_122 --profile quick` trains, evaluates, exports, resumes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from speaker_tf.config.experiment import load_experiment
from speaker_tf.training import callbacks as run_callbacks
from speaker_tf.training.trainer import resolve_config, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speaker_tf_data")


@pytest.fixture(scope="module")
def quick_run(data_dir, tmp_path_factory) -> Path:
    """One quick run of exp_122 through its module's command line, as a user starts it."""
    out = tmp_path_factory.mktemp("runs")
    env = {"SPEAKER_TF_DATA": str(data_dir), "PATH": "/usr/bin:/bin:/usr/local/bin", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.exp_122", "--profile", "quick", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "profile quick: applied on top of exp_122" in proc.stdout
    (run,) = (out / "exp_122").iterdir()
    return run


def _log(run: Path) -> list[dict[str, str]]:
    with open(run / "training_log.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_quick_run_writes_a_complete_run_directory(quick_run, data_dir):
    config = json.loads((quick_run / "config.json").read_text())
    assert config["name"] == "exp_122" and config["train"]["profile"] == "quick"
    for name in (
        "metrics.json",
        "encoder.keras",
        "training_log.csv",
        "test_scores.txt",
        "checkpoints/best.weights.h5",
        "checkpoints/latest.weights.h5",
        "export/exp_122/1/saved_model.pb",
        "logs/projector/metadata.tsv",
    ):
        assert (quick_run / name).is_file(), name
    assert list((quick_run / "logs" / "train").glob("events.out.tfevents.*"))
    assert list((quick_run / "logs" / "validation").glob("events.out.tfevents.*"))
    metrics = json.loads((quick_run / "metrics.json").read_text())
    for key in (
        "eer",
        "min_dcf_p01",
        "min_dcf_p05",
        "baseline_eer",
        "identification_accuracy",
        "steps",
        "wall_seconds",
        "examples_per_second",
        "val_eer",
        "eer_threshold",
    ):
        assert key in metrics, key
    assert metrics["steps"] == config["train"]["epochs"] * config["train"]["steps_per_epoch"]
    # the score file agrees with the EER in metrics.json
    from speaker_tf.evaluation.metrics import compute_eer
    from speaker_tf.evaluation.scoring import read_score_file

    scores, labels = read_score_file(quick_run / "test_scores.txt")
    assert compute_eer(scores, labels)[0] == pytest.approx(metrics["eer"])
    # the encoder + MFCC fusion, fitted on validation trials, recomputed from its saved parameters
    from speaker_tf.data.baseline import score_trials
    from speaker_tf.evaluation.fusion import load_fusion
    from speaker_tf.evaluation.scoring import read_trials

    fusion = load_fusion(quick_run)
    assert [fusion.weight_a, fusion.weight_b] == pytest.approx(metrics["fusion_weights"])
    (corpus,) = data_dir.iterdir()
    trials = read_trials(corpus / "test" / "trials.txt")
    baseline = score_trials(trials, corpus / "test")
    assert compute_eer(baseline, labels)[0] == pytest.approx(metrics["baseline_eer"])
    assert compute_eer(fusion.apply(scores, baseline), labels)[0] == pytest.approx(metrics["fused_eer"])


@pytest.mark.slow
def test_quick_run_learns(quick_run):
    rows = _log(quick_run)
    losses = [float(r["loss"]) for r in rows]
    assert losses[-1] < 0.9 * losses[0], losses
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["eer"] < 0.3, metrics  # chance is 0.5; unseen test speakers
    assert metrics["val_eer"] < 0.35, metrics


@pytest.mark.slow
def test_interrupted_run_resumes_without_repeating_steps(data_dir, tmp_path, monkeypatch):
    """A run killed in epoch 2 continues from its epoch-1 backup with --resume; no step counts twice."""
    monkeypatch.setenv("SPEAKER_TF_DATA", str(data_dir))
    experiment = load_experiment("exp_122")
    config = resolve_config(
        experiment,
        [
            "train.epochs=3",
            "train.steps_per_epoch=4",
            "train.checkpoint_every_steps=2",
            "train.validation_trials=20",
        ],
        profile="quick",
    )

    class Kill(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 7:  # mid epoch 2, after the backup at step 4
                raise KeyboardInterrupt

    build = run_callbacks.build
    monkeypatch.setattr(run_callbacks, "build", lambda *a: build(*a) + [Kill()])
    with pytest.raises(KeyboardInterrupt):
        train(experiment, config, out=str(tmp_path))
    (run,) = (tmp_path / "exp_122").iterdir()
    assert not (run / "metrics.json").exists()

    monkeypatch.setattr(run_callbacks, "build", build)
    train(experiment, resolve_config(experiment, resume=str(run)), out=str(tmp_path), resume=str(run))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 12  # 3 epochs x 4 steps: resumed at step 4, not restarted at 0
    epochs = [int(r["epoch"]) for r in _log(run)]
    assert epochs == [0, 1, 2], epochs


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    from speaker_tf.errors import ConfigError

    with pytest.raises(ConfigError, match="not a run directory"):
        resolve_config(load_experiment("exp_122"), resume=str(tmp_path))


def test_warm_start_copies_weights_by_layer_name(tmp_path):
    from speaker_tf.config import ExperimentConfig
    from speaker_tf.models import build_encoder
    from speaker_tf.training.warm_start import warm_start

    config = resolve_config(load_experiment("exp_106"), profile="quick").model
    donor = build_encoder(config)
    for v in donor.trainable_variables:
        v.assign(np.full(v.shape, 0.5, dtype="float32"))
    run = tmp_path / "exp_106" / "20260101-000000"
    run.mkdir(parents=True)
    donor.save(run / "encoder.keras")
    (run / "config.json").write_text(ExperimentConfig().to_json())
    student = build_encoder(config)
    copied = warm_start(student, "exp_106", tmp_path)
    assert copied > 0
    for a, b in zip(donor.trainable_variables, student.trainable_variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_warm_start_without_a_finished_run_says_what_to_train(tmp_path):
    from speaker_tf.errors import ConfigError
    from speaker_tf.models import build_encoder
    from speaker_tf.training.warm_start import warm_start

    encoder = build_encoder(resolve_config(load_experiment("exp_106"), profile="quick").model)
    with pytest.raises(ConfigError, match=r"no finished run of exp_106.*python -m experiments\.exp_106"):
        warm_start(encoder, "exp_106", tmp_path)
