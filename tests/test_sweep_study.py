"""`speaker-tf sweep` end to end on tiny data: killed and resumed, and two processes on one study."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.image
import optuna
import pytest
from optuna.trial import TrialState

REPO = Path(__file__).resolve().parents[1]
SPACE = """
experiment: exp_122
fixed:
  data.speakers_per_batch: 4  # the tiny corpus has 4 training speakers
  train.epochs: 2
  train.steps_per_epoch: 3
  train.validation_trials: 40
params:
  optim.learning_rate: {type: float, low: 1e-3, high: 1e-2, log: true}
  loss.triplet_margin: {type: float, low: 0.2, high: 0.8}
"""


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "space.yaml"
    path.write_text(SPACE)
    return path


def _command(space: Path, corpus: Path, db: Path, study: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "speaker_tf.cli.main", "sweep", "exp_122", "--space", str(space),
        "--storage", f"sqlite:///{db}", "--study", study, "--profile", "quick", "--data", str(corpus),
        *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _load(db: Path, study: str) -> optuna.Study:
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}", engine_kwargs={"connect_args": {"timeout": 60}})
    return optuna.load_study(study_name=study, storage=storage)


def _poll_states(db: Path, study: str) -> list[str]:
    """The study's trial states, read without writing: opening an Optuna storage on a database another
    process is still creating would race it to create the tables. [] until the study exists."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)) as connection:
            rows = connection.execute(
                "SELECT trials.state FROM trials JOIN studies USING (study_id) WHERE study_name = ?", (study,)
            ).fetchall()
    except sqlite3.OperationalError:  # no tables yet, or locked for a moment
        return []
    return [state for (state,) in rows]


def _beating(db: Path) -> bool:
    """Whether a running trial has recorded a heartbeat. Optuna only takes a trial with a heartbeat
    for stale; one killed between `ask` and its first heartbeat would stay RUNNING for ever."""
    with contextlib.closing(sqlite3.connect(db, timeout=60)) as connection:
        rows = connection.execute(
            "SELECT COUNT(*) FROM trial_heartbeats JOIN trials USING (trial_id) "
            "WHERE trials.state = 'RUNNING'"
        ).fetchone()
    return rows[0] > 0


def _check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 100 and image.std() > 0.01, path


@pytest.mark.slow
def test_a_killed_sweep_resumes_and_loses_no_finished_trial(space, tiny_corpus, tmp_path):
    db = tmp_path / "study.db"
    command = _command(space, tiny_corpus, db, "kill", "--trials", "3", "--heartbeat", "1")
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        # kill it once a trial has finished and the next one is training
        while time.monotonic() < deadline and first.poll() is None:
            time.sleep(1)
            states = _poll_states(db, "kill")
            if "COMPLETE" in states and "RUNNING" in states and _beating(db):
                break
        exited = first.poll()
        first.send_signal(signal.SIGKILL)
        first.wait()
    log = (tmp_path / "first.log").read_text()
    assert exited is None, f"the sweep ended by itself ({exited}) before it could be killed: {log[-3000:]}"
    time.sleep(2.5)  # past the grace period of a 1 s heartbeat: the killed trial is stale
    before = _load(db, "kill").get_trials()
    assert [t.state for t in before] == [TrialState.COMPLETE, TrialState.RUNNING], (
        tmp_path / "first.log"
    ).read_text()[-3000:]
    assert before[0].user_attrs["default"]  # a new study starts with the experiment's own values
    killed = before[1]

    resumed = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=1800)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "study 'kill'" in resumed.stdout and "1 finished trial(s), 2 to go" in resumed.stdout
    after = _load(db, "kill").get_trials()
    # the finished trial is untouched, the dead process's trial is marked failed and retried
    assert after[0].state == TrialState.COMPLETE and after[0].value == before[0].value
    assert after[0].params == before[0].params
    assert after[1].state == TrialState.FAIL
    finished = [t for t in after if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 3
    retries = [t for t in after if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].params == killed.params

    out = tmp_path / "kill"  # beside the database, named after the study
    for name in ("history", "importance", "contour", "parallel_coordinates"):
        _check_png(out / f"{name}.png")
    best = json.loads((out / "best.json").read_text())
    complete = [t for t in after if t.state == TrialState.COMPLETE]
    assert best["val_eer"] == min(t.value for t in complete)
    assert best["overrides"]["train.epochs"] == 2 and "optim.learning_rate" in best["params"]
    run = (out / "best_run").resolve()
    assert (run / "metrics.json").is_file() and (run / "encoder.keras").is_file()
    assert json.loads((run / "metrics.json").read_text())["val_eer"] == best["val_eer"]
    config = json.loads((run / "config.json").read_text())
    assert config["optim"]["learning_rate"] == best["params"]["optim.learning_rate"]
    # the same command again has nothing to do and only rewrites the outputs
    again = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "3 finished trial(s), 0 to go" in again.stdout
    assert len(_load(db, "kill").get_trials()) == len(after)


@pytest.mark.slow
def test_two_processes_share_one_study(space, tiny_corpus, tmp_path):
    db = tmp_path / "study.db"
    extra = ("--trials", "2", "--pruner", "none", "--no-default-trial")
    command = _command(space, tiny_corpus, db, "pair", *extra)
    procs = [
        subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=1800)[0] for p in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-3000:]
        assert "trial " in output  # each process trained at least one trial
    trials = _load(db, "pair").get_trials()
    assert 2 <= len(trials) <= 3  # a process that finishes first may start one more
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.number for t in trials}) == len(trials)
    run_dirs = {t.user_attrs["run_dir"] for t in trials}
    assert len(run_dirs) == len(trials) and all(Path(r, "metrics.json").is_file() for r in run_dirs)
    _check_png(tmp_path / "pair" / "history.png")
