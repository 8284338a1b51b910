"""`speaker-tf experiments / diff / train --dry-run` and `python -m experiments.X` behave the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from speaker_tf.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def test_experiments_lists_every_module_with_its_parent(capsys):
    assert main(["experiments"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list((REPO / "experiments").glob("exp_*.py")))
    row = next(line for line in lines if line.startswith("exp_122 "))
    assert "<- exp_116" in row and "L2 norm" in row
    assert any(line.startswith("exp_110 ") and "[warm start: exp_106]" in line for line in lines)


def test_diff_prints_exactly_the_changed_keys(capsys):
    assert main(["diff", "exp_121", "exp_122"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in out) == ["loss.cross_entropy_weight", "model.fc.embedding_norm"]
    assert any("'layer' -> 'l2'" in line for line in out)


def test_train_dry_run_resolves_profile_and_overrides(capsys):
    argv = ["train", "exp_122", "--dry-run", "--profile", "cpu", "--set", "optim.learning_rate=3e-4"]
    assert main(argv) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["optim"]["learning_rate"] == 3e-4  # --set wins over the profile
    assert config["train"]["profile"] == "cpu"
    assert config["model"]["fc"]["embedding_norm"] == "l2"


def test_auto_profile_is_full_on_a_users_corpus(capsys, tmp_path):
    assert main(["train", "exp_122", "--dry-run", "--data", str(tmp_path)]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["train"]["profile"] == "full" and config["data"]["root"] == str(tmp_path)
    assert config["model"]["frontend"]["kind"] == "raw"


def test_bad_override_is_a_one_line_error_from_both_entry_points(capsys):
    assert main(["train", "exp_122", "--dry-run", "--set", "model.fc.embeding_norm=l2"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'model.fc.embeding_norm'; did you mean model.fc.embedding_norm" in err
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.exp_122", "--dry-run", "--set", "train.epochs=many"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "train.epochs='many' must be of type int" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_experiment_names_close_matches(capsys):
    assert main(["train", "exp_1222", "--dry-run"]) == 2
    assert "unknown experiment 'exp_1222'; did you mean exp_122" in capsys.readouterr().err
