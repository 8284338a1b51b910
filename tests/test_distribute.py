"""Data-parallel training: strategies, the split of the P x K batch, chief-only work.

The multi-device tests run `tests/distributed_fit.py` in fresh processes (logical CPU
devices and TF_CONFIG must be set before TensorFlow initialises).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from speaker_tf import losses
from speaker_tf.config.experiment import load_experiment
from speaker_tf.errors import ConfigError
from speaker_tf.training import distribute

DRIVER = Path(__file__).with_name("distributed_fit.py")
REPO = DRIVER.parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def _config(**overrides):
    return load_experiment("exp_122").config.override(overrides)


def test_check_config_refuses_a_batch_that_does_not_split():
    config = _config(**{"data.speakers_per_batch": 5, "data.utterances_per_speaker": 3})
    with pytest.raises(ConfigError, match=r"P x K = 5 x 3 = 15 does not split evenly over 2 replicas"):
        distribute.check_config(config, 2)
    distribute.check_config(config, 3)  # 15 / 3
    distribute.check_config(config, 1)


def test_check_config_refuses_center_loss_and_chief_only_rules_with_replicas():
    with pytest.raises(ConfigError, match="centre loss"):
        distribute.check_config(_config(**{"loss.center_weight": 0.01}), 2)
    distribute.check_config(_config(**{"loss.center_weight": 0.01}), 1)
    multi = {"train.strategy": "multiworker", "train.early_stopping_patience": 3}
    with pytest.raises(ConfigError, match="only the chief computes"):
        distribute.check_config(_config(**multi), 2)


def test_strategy_names_and_devices_are_checked():
    with pytest.raises(ConfigError, match="train.strategy must be one of default, mirrored"):
        distribute.build_strategy("horovod")
    with pytest.raises(ConfigError, match=r"train.devices=\['/gpu:0'\] is only used by 'mirrored' or 'tpu'"):
        distribute.build_strategy("default", ("/gpu:0",))
    with pytest.raises(ConfigError, match="train.strategy=.parameter_server. is not one of .default"):
        _config(**{"train.strategy": "parameter_server"})


def test_multiworker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="needs TF_CONFIG"):
        distribute.build_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG is not valid JSON"):
        distribute.current_worker()


@pytest.mark.parametrize(
    "cluster, task, chief, workers",
    [
        ({"worker": ["a:1", "b:2"]}, {"type": "worker", "index": 0}, True, 2),
        ({"worker": ["a:1", "b:2"]}, {"type": "worker", "index": 1}, False, 2),
        ({"chief": ["c:0"], "worker": ["a:1"]}, {"type": "worker", "index": 0}, False, 2),
        ({"chief": ["c:0"], "worker": ["a:1"]}, {"type": "chief", "index": 0}, True, 2),
    ],
)
def test_the_chief_is_worker_0_unless_a_chief_task_exists(monkeypatch, cluster, task, chief, workers):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    worker = distribute.current_worker()
    assert (worker.is_chief, worker.num_workers) == (chief, workers)


def test_without_tf_config_this_process_is_the_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.current_worker() == distribute.Worker() and distribute.Worker().is_chief


def test_cross_replica_loss_is_the_wrapped_loss_on_one_replica():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 3).astype("int32")
    embeddings = rng.normal(size=(12, 8)).astype("float32")
    inner = losses.TripletSemiHardLoss(margin=0.5)
    wrapped = distribute.CrossReplicaLoss(inner)
    assert float(wrapped(labels, embeddings)) == pytest.approx(float(inner(labels, embeddings)), rel=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(wrapped))
    assert isinstance(restored.loss, losses.TripletSemiHardLoss) and restored.loss.margin == 0.5


def test_only_embedding_terms_are_gathered():
    config = _config(**{"loss.cross_entropy_weight": 0.5, "loss.supcon_weight": 0.1})
    assert distribute.batch_level_terms(config) == ("triplet", "supcon")
    args = {"loss": {"triplet": losses.TripletSemiHardLoss(), "cross_entropy": "ce"}, "metrics": None}
    out = distribute.gather_batch_losses(args, ("triplet",))
    assert isinstance(out["loss"]["triplet"], distribute.CrossReplicaLoss)
    assert out["loss"]["cross_entropy"] == "ce" and out["metrics"] is None


@pytest.fixture(scope="module")
def mirrored_vs_single(tiny_corpus, tmp_path_factory) -> dict:
    """One process: 3 steps on one device, then the same 3 global batches on 2 logical CPUs."""
    out = tmp_path_factory.mktemp("mirrored") / "result.json"
    cmd = [sys.executable, str(DRIVER), "--corpus", str(tiny_corpus), "--strategy", "mirrored"]
    cmd += ["--devices", "/cpu:0,/cpu:1", "--compare", "--epochs", "3", "--out", str(out)]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow
def test_two_replicas_compute_the_single_device_loss_curve(mirrored_vs_single):
    single, mirrored = mirrored_vs_single["single"], mirrored_vs_single["mirrored"]
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    assert single["iterations"] == mirrored["iterations"] == 3  # global steps, not per replica
    # Step 1: same weights, same global batch -> the same loss (every term).
    for term in ("loss", "triplet_loss", "cross_entropy_loss"):
        assert mirrored["losses"][term][0] == pytest.approx(single["losses"][term][0], rel=1e-5), term
    # Later steps: same gradients -> the same curve.
    np.testing.assert_allclose(mirrored["losses"]["loss"], single["losses"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["embedding"], single["embedding"], atol=0.02)
    assert single["losses"]["loss"][0] > 0.1  # a real loss, not a degenerate zero


def _free_ports(n: int) -> list[int]:
    """Ports the OS hands out now (bound and released; a race is possible but unlikely)."""
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_workers(corpus: Path, folder: Path, extra: list[str], tag: str) -> list[subprocess.Popen]:
    """Two workers of one cluster on 127.0.0.1; worker i writes folder/<tag>-<i>.json and .log."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    for i in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        cmd = [sys.executable, str(DRIVER), "--corpus", str(corpus), "--strategy", "multiworker"]
        cmd += ["--out", str(folder / f"{tag}-{i}.json"), *extra]
        if "--backup" in extra and i > 0:  # the chief writes the backup, a worker a temporary copy
            cmd += ["--worker-backup", str(folder / f"worker{i}-backup")]
        log = open(folder / f"{tag}-{i}.stderr", "w")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(cmd, env=_env(TF_CONFIG=tf_config), stdout=log, stderr=subprocess.STDOUT)
        )
    return procs


def _wait(procs: list[subprocess.Popen], folder: Path, tag: str, timeout: float = 420) -> None:
    for i, proc in enumerate(procs):
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        assert code == 0, (folder / f"{tag}-{i}.stderr").read_text()[-3000:]


@pytest.mark.slow
def test_two_workers_compute_the_single_device_loss_curve(tiny_corpus, tmp_path, mirrored_vs_single):
    procs = _start_workers(tiny_corpus, tmp_path, ["--epochs", "3"], "run")
    _wait(procs, tmp_path, "run")
    single = mirrored_vs_single["single"]
    for i in range(2):
        worker = json.loads((tmp_path / f"run-{i}.json").read_text())["multiworker"]
        assert worker["replicas"] == 2 and worker["iterations"] == 3
        np.testing.assert_allclose(worker["losses"]["loss"], single["losses"]["loss"], rtol=1e-4)
        np.testing.assert_allclose(worker["embedding"], single["embedding"], atol=0.02)


def _log_lines(path: Path) -> list[tuple[int, float, int]]:
    if not path.is_file():
        return []
    rows = [line.split(",") for line in path.read_text().splitlines()]
    return [(int(e), float(loss), int(it)) for e, loss, it in rows]


@pytest.mark.slow
def test_a_killed_worker_restarts_from_the_chiefs_backup(tiny_corpus, tmp_path, mirrored_vs_single):
    """Kill worker 1 after two backed-up epochs, restart the cluster: every step runs exactly once."""
    import time

    backup = tmp_path / "backup"
    extra = ["--epochs", "3", "--backup", str(backup), "--sleep", "3"]
    first = _start_workers(tiny_corpus, tmp_path, extra + ["--log", str(tmp_path / "first.log")], "first")
    deadline = time.monotonic() + 400
    while len(_log_lines(tmp_path / "first.log")) < 2 * 2:  # both workers finished epoch 2
        assert time.monotonic() < deadline and all(p.poll() is None for p in first)
        time.sleep(0.5)
    first[1].kill()  # a preempted worker; the cluster manager then restarts the whole job
    first[0].kill()
    for p in first:
        p.wait()
    before = _log_lines(tmp_path / "first.log")
    assert {e for e, _, _ in before} <= {0, 1, 2} and (backup / "training_metadata.json").is_file()
    assert not list(backup.glob("*worker*")) and (tmp_path / "worker1-backup").is_dir()
    backed_up = json.loads((backup / "training_metadata.json").read_text())["epoch"]

    second = _start_workers(tiny_corpus, tmp_path, extra + ["--log", str(tmp_path / "second.log")], "second")
    _wait(second, tmp_path, "second")
    after = _log_lines(tmp_path / "second.log")
    assert sorted({e for e, _, _ in after}) == list(range(backed_up, 3))  # resumed after the backup
    for epoch, _, iterations in before + after:
        assert iterations == epoch + 1  # one optimizer step per epoch: none lost, none counted twice
    result = json.loads((tmp_path / "second-0.json").read_text())["multiworker"]
    assert result["iterations"] == 3
    single = mirrored_vs_single["single"]["losses"]["loss"]
    for epoch, loss, _ in after:  # the restored weights and the input stream continue the same curve
        assert loss == pytest.approx(single[epoch], rel=1e-4)
