"""The training input pipeline on a tf.data service (`train.data_service`, `--data-service`).

`speaker-tf data-service dispatcher` and `speaker-tf data-service worker` start the
servers; a training run with `train.data_service = "grpc://HOST:PORT"` (the
dispatcher) hands its `train_dataset` to them: the workers sample, read, crop and
augment, the trainer only receives finished batches.

Processing mode (the choice, documented once): `ShardingPolicy.DYNAMIC`. The
pipeline's source is the step index (`Dataset.range`, splittable; `counter` is not):
the dispatcher hands each step index to one worker, which builds that step's
whole P x K batch (sampling, crops, `unbatch`, `batch`) and sends it. So every
sampled step is built once, by one worker, and a consumer receives whole
batches. `ShardingPolicy.OFF` would make every worker produce the whole stream
(the same seed: each batch once per worker); the static policies need a fixed
worker list. What DYNAMIC gives up: the order in which steps arrive depends on
the workers' timing (with one worker it is the local order), and at-most-once
visitation (a restarted worker's steps in flight are lost). Hence:

* Exact resume does not hold: a resumed run's counter starts at the restored
  step, but the batches consumed before the failure were not exactly steps
  [0, restored step); a few steps near the cut may be seen twice or never.
* Under `multiworker` each trainer reads its own rows of each global batch
  through its own job; the jobs are not coordinated, so one global step may
  join rows of different sampled steps (every sampled step's rows are still
  used once). `mirrored` and one device read whole global batches.

tf.data service workers run the pipeline's graph, without the trainer's Python:
the pipeline must be pure graph ops. The WAV path is; `data.records` reads
crops through a `tf.numpy_function` (speaker_tf/data/records.py), so it is
refused. The workers read the training files by the paths the trainer lists
(a shared file system).
"""

from __future__ import annotations

import re

import tensorflow as tf

from speaker_tf.errors import ConfigError

__all__ = ["check_service", "distribute_training", "parse_address", "start_dispatcher", "start_worker"]

_ADDRESS = re.compile(r"grpc://(?P<host>[A-Za-z0-9.\-_]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")


def parse_address(address: str, option: str = "train.data_service") -> tuple[str, int]:
    """(host, port) of `grpc://HOST:PORT`; a `ConfigError` naming `option` and the value otherwise."""
    match = _ADDRESS.fullmatch(address)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ConfigError(
            f"{option} must be grpc://HOST:PORT (the tf.data service dispatcher, e.g. grpc://node0:5050), "
            f"got {address!r}"
        )
    return match["host"], int(match["port"])


def check_service(config) -> None:
    """Refuse `train.data_service` settings the service cannot run; warn about what it changes."""
    address = config.train.data_service
    if not address:
        return
    parse_address(address)
    if config.data.records:
        raise ConfigError(
            f"train.data_service ({address}) runs the input pipeline on tf.data service workers, which "
            f"cannot run the tf.numpy_function that reads crops from packed shards (data.records="
            f'{config.data.records!r}): train from the WAV files (data.records="") or drop --data-service'
        )
    mixed = "; under multiworker a global step may join rows of different sampled steps"
    print(
        f"warning: train.data_service ({address}): batches arrive in the order the service's workers "
        "finish them, so a resumed run does not replay the exact batch sequence (a few steps near the "
        "cut may be seen twice or never)" + (mixed if config.train.strategy == "multiworker" else "")
    )


def distribute_training(dataset: tf.data.Dataset, address: str, job_name: str | None = None):
    """`dataset` (a `train_dataset` stream, built on the step counter) produced by the service at `address`.

    DYNAMIC sharding: each step's batch is built by one worker (module docstring).
    `job_name`: consumers with the same name share one job (each step goes to one of them).
    """
    parse_address(address)
    service = tf.data.experimental.service
    return dataset.apply(
        service.distribute(processing_mode=service.ShardingPolicy.DYNAMIC, service=address, job_name=job_name)
    ).prefetch(tf.data.AUTOTUNE)


def start_dispatcher(port: int, work_dir: str | None = None):
    """A started `DispatchServer` on `port` (0: any free port); `work_dir` makes it fault tolerant."""
    config = tf.data.experimental.service.DispatcherConfig(
        port=port, work_dir=work_dir, fault_tolerant_mode=bool(work_dir)
    )
    return tf.data.experimental.service.DispatchServer(config)


def start_worker(dispatcher: str, port: int, worker_address: str | None = None):
    """A started `WorkerServer` registered with `dispatcher` (grpc://HOST:PORT or HOST:PORT).

    `worker_address` (HOST:PORT) is what the dispatcher tells trainers to connect to;
    default `localhost:<port>`, right only when the trainers run on the same host.
    """
    if "://" not in dispatcher:
        dispatcher = f"grpc://{dispatcher}"
    host, dispatcher_port = parse_address(dispatcher, "the dispatcher address")
    kwargs = {"worker_address": worker_address} if worker_address else {}
    config = tf.data.experimental.service.WorkerConfig(
        dispatcher_address=f"{host}:{dispatcher_port}", port=port, **kwargs
    )
    return tf.data.experimental.service.WorkerServer(config)
