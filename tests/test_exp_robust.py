"""exp_robust (issue 9): its per-profile settings, and a quick run that learns with its augmentation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from speaker_tf.config.experiment import load_experiment
from speaker_tf.errors import ConfigError
from speaker_tf.training.trainer import resolve_config

REPO = Path(__file__).resolve().parents[1]


def test_profile_overrides_apply_after_the_generic_profile_and_only_under_it():
    experiment = load_experiment("exp_robust")
    cpu = resolve_config(experiment, profile="cpu")
    # under the cpu profile it is exp_122's default run plus the augmentation, the smooth-only CMN, 4x the
    # speakers and 2.5x the steps, nothing else: `speaker-tf train exp_122 --set data.robust.enabled=true
    # --set model.frontend.mean_norm_smooth=3 --set data.synth_speakers=1040 --set data.synth_utterances=10
    # --set train.epochs=25 --set data.max_train_speakers=0` is this recipe's run
    flagship = resolve_config(load_experiment("exp_122"), profile="cpu")
    changes = {
        "data.robust.enabled": True,
        "model.frontend.mean_norm_smooth": 3,
        "data.synth_speakers": 1040,
        "data.synth_utterances": 10,
        "train.epochs": 25,
        "data.max_train_speakers": 0,  # all 800 training speakers, not exp_122's first 512
    }
    assert flagship.override(changes).to_dict() == cpu.to_dict() | {"name": flagship.name}
    assert cpu.optim.schedule == "warmup_cosine" and cpu.loss.cross_entropy_weight == 0.5
    quick = resolve_config(experiment, profile="quick")
    assert quick.data.robust.rooms == 8 and cpu.data.robust.rooms == experiment.config.data.robust.rooms
    # the larger corpus is the cpu run's alone: the test run keeps the quick profile's tiny corpus
    assert (
        quick.data.synth_speakers
        == resolve_config(load_experiment("exp_122"), profile="quick").data.synth_speakers
    )
    # --set still has the last word
    assert resolve_config(experiment, ["train.epochs=3"], profile="cpu").train.epochs == 3


def test_profile_overrides_are_checked_when_the_experiment_is_defined():
    parent = load_experiment("exp_122")
    with pytest.raises(ConfigError, match="train.epoch"):
        parent.derive("exp_x", "typo", {}, profile_overrides={"cpu": {"train.epoch": 3}})
    with pytest.raises(ConfigError, match="unknown profile 'gpu'"):
        parent.derive("exp_x", "bad profile", {}, profile_overrides={"gpu": {"train.epochs": 3}})


def test_recipe_keeps_exp_122_and_adds_robustness():
    robust, flagship = load_experiment("exp_robust").config, load_experiment("exp_122").config
    assert robust.loss.triplet == flagship.loss.triplet and robust.model.fc.embedding_norm == "l2"
    assert robust.data.robust.enabled and not flagship.data.robust.enabled
    assert flagship.model.frontend.mean_norm_smooth == 0  # exp_122 keeps its meaning
    # the notes cap training at the first 512 speakers; this recipe uses every one, under every profile
    assert flagship.data.max_train_speakers == 512 and robust.data.max_train_speakers == 0
    # the smooth-only CMN belongs to the log-mel front end of the cpu and quick profiles; the notes' raw
    # front end (full profile) has no mean log-mel, and the config would not build with it
    assert robust.model.frontend.kind == "raw" and robust.model.frontend.mean_norm_smooth == 0
    for profile in ("cpu", "quick"):
        frontend = resolve_config(load_experiment("exp_robust"), profile=profile).model.frontend
        assert frontend.kind == "logmel" and frontend.mean_norm and frontend.mean_norm_smooth == 3
    assert robust.data.robust.speed_factors[0] == 1.0 and len(robust.data.robust.speed_factors) == 3


@pytest.mark.slow
def test_quick_run_of_exp_robust_learns(tmp_path):
    env = {
        "SPEAKER_TF_DATA": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.exp_robust", "--profile", "quick", "--out", f"{tmp_path}/runs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = (tmp_path / "runs" / "exp_robust").iterdir()
    log = (run / "training_log.csv").read_text().splitlines()
    header = log[0].split(",")
    losses = [float(row.split(",")[header.index("loss")]) for row in log[1:]]
    # 8 x 50 steps against a cross-entropy over 3 x 31 speed-perturbed speakers and heavy augmentation:
    # the loss falls slowly; the verification error on unseen speakers is the real test of learning
    assert losses[-1] < losses[0], losses
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["eer"] < 0.35 and metrics["val_eer"] < 0.35, metrics  # chance is 0.5
