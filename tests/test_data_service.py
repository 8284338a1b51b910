"""`train.data_service`: the training pipeline on an in-process tf.data service (ports picked at run time)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from speaker_tf.config.data import DataConfig
from speaker_tf.config.experiment import load_experiment
from speaker_tf.data.corpus import read_corpus
from speaker_tf.data.pipeline import train_dataset
from speaker_tf.data.service import (
    check_service,
    distribute_training,
    parse_address,
    start_dispatcher,
    start_worker,
)
from speaker_tf.errors import ConfigError

CONFIG = DataConfig(speakers_per_batch=3, utterances_per_speaker=2, crop_seconds=0.25)


@pytest.fixture(scope="module")
def service():
    """A dispatcher and two workers in this process: (dispatcher target, [workers])."""
    dispatcher = start_dispatcher(0)
    workers = [start_worker(dispatcher.target, 0) for _ in range(2)]
    yield dispatcher.target
    for worker in workers:
        worker.stop()
    dispatcher.stop()


def _train_lists(tiny_corpus: Path) -> tuple[list[str], list[int]]:
    utterances = sorted(read_corpus(tiny_corpus / "train", verbose=False), key=lambda u: u.relpath)
    speakers = sorted({u.speaker for u in utterances})
    return [str(u.path) for u in utterances], [speakers.index(u.speaker) for u in utterances]


@pytest.mark.parametrize(
    "address", ["node0:5050", "http://node0:5050", "grpc://node0", "grpc://node0:99999", "grpc://a b:1", ""]
)
def test_a_bad_address_is_named(address):
    with pytest.raises(ConfigError, match=rf"train.data_service must be grpc://HOST:PORT .*got {address!r}"):
        parse_address(address)


def test_good_addresses_parse():
    assert parse_address("grpc://node0.cluster:5050") == ("node0.cluster", 5050)
    assert parse_address("grpc://10.0.0.7:1") == ("10.0.0.7", 1)
    assert parse_address("grpc://[::1]:5050") == ("[::1]", 5050)


def test_train_names_a_bad_data_service_before_reading_data(tmp_path, capsys):
    from speaker_tf.cli.main import main

    argv = ["train", "exp_122", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]
    assert main([*argv, "--data-service", "dispatcher:5050"]) == 2
    err = capsys.readouterr().err
    assert "train.data_service must be grpc://HOST:PORT" in err and "'dispatcher:5050'" in err
    assert not list(tmp_path.iterdir())  # no run directory


def test_packed_shards_are_refused_with_the_data_service(capsys):
    config = load_experiment("exp_122").config.override(
        {"train.data_service": "grpc://node0:5050", "data.records": "/data/packed"}
    )
    with pytest.raises(ConfigError, match=r"cannot run the tf.numpy_function .*data.records='/data/packed'"):
        check_service(config)
    check_service(config.override({"data.records": ""}))  # the WAV path: pure graph ops
    assert "a resumed run does not replay the exact batch sequence" in capsys.readouterr().out
    check_service(config.override({"train.data_service": ""}))  # off: nothing to say
    assert capsys.readouterr().out == ""


def test_service_batches_are_the_local_batches(tiny_corpus, service):
    """Two workers: each received batch is, value for value, one of the local stream's batches, and
    none arrives twice (a multiset: DYNAMIC sharding gives each step to one worker, and the steps
    arrive in the order the workers finish them)."""
    paths, labels = _train_lists(tiny_corpus)
    local = [(x.numpy(), y.numpy()) for x, y in train_dataset(paths, labels, CONFIG, seed=5).take(48)]
    received = distribute_training(train_dataset(paths, labels, CONFIG, seed=5), service).take(10)
    steps = []
    for x, y in received:
        matches = [s for s, (lx, ly) in enumerate(local) if np.array_equal(lx, x) and np.array_equal(ly, y)]
        assert len(matches) == 1, f"a received batch matches local steps {matches}"
        steps.append(matches[0])
    assert len(set(steps)) == len(steps), steps


def test_one_worker_gives_the_local_order(tiny_corpus):
    """With one worker, the steps arrive in order: the local stream, batch for batch (from start_step)."""
    paths, labels = _train_lists(tiny_corpus)
    dispatcher = start_dispatcher(0)
    worker = start_worker(dispatcher.target, 0)
    try:
        local = train_dataset(paths, labels, CONFIG, seed=6, start_step=3).take(5)
        stream = train_dataset(paths, labels, CONFIG, seed=6, start_step=3)
        remote = distribute_training(stream, dispatcher.target)
        for (lx, ly), (rx, ry) in zip(local, remote.take(5), strict=True):
            np.testing.assert_array_equal(rx.numpy(), lx.numpy())
            np.testing.assert_array_equal(ry.numpy(), ly.numpy())
    finally:
        worker.stop()
        dispatcher.stop()


@pytest.mark.slow
def test_a_short_run_through_the_service_trains(tiny_corpus, service, tmp_path, capsys):
    """`speaker-tf train exp_122 --data-service ...` (quick profile, 3 x 8 steps on the tiny corpus)."""
    from speaker_tf.cli.main import main

    sets = [
        "data.speakers_per_batch=4",
        "data.utterances_per_speaker=4",
        "data.crop_seconds=0.5",
        "train.epochs=3",
        "train.steps_per_epoch=8",
        "train.validation_trials=10",
    ]
    argv = ["train", "exp_122", "--data", str(tiny_corpus), "--profile", "quick", "--out", str(tmp_path)]
    argv += [arg for s in sets for arg in ("--set", s)]
    assert main([*argv, "--data-service", service]) == 0, capsys.readouterr().err[-3000:]
    assert "a resumed run does not replay the exact batch sequence" in capsys.readouterr().out
    (run,) = (tmp_path / "exp_122").iterdir()
    with open(run / "training_log.csv", newline="") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert len(losses) == 3 and losses[-1] < 0.9 * losses[0], losses


def test_a_worker_needs_its_dispatcher(capsys):
    from speaker_tf.cli.main import main

    assert main(["data-service", "worker", "--port", "0"]) == 2
    assert "a worker needs --dispatcher grpc://HOST:PORT" in capsys.readouterr().err
    assert main(["data-service", "worker", "--dispatcher", "node0"]) == 2
    assert "the dispatcher address must be grpc://HOST:PORT" in capsys.readouterr().err
