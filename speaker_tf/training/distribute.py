"""Data-parallel training on `tf.distribute`: strategies, the split of a P x K batch, chief-only work.

How a global P x K batch is split (the choice, documented once):

* `model.fit` hands each of the R replicas a contiguous 1/R of the global batch
  (the global batch size must be divisible by R).
* Batch-level losses (triplet, supervised contrastive: every term computed on the
  embedding) see the *whole* global batch: `CrossReplicaLoss` all-gathers labels and
  embeddings across replicas (`ReplicaContext.all_gather`, whose gradient is the
  all-reduced upstream gradient sliced back to the local rows) and divides the
  result by R. Keras sums the replicas' gradients, so the loss value and the
  gradient equal the single-device ones on the same global batch; negatives
  and positives are mined over all P speakers, not P / R.
* Per-example losses (cross-entropy, additive angular margin) need no gathering:
  Keras averages each replica's share and scales it by 1 / R.
* The centre loss keeps per-class state updated inside the model; it is refused
  with more than one replica (`ConfigError`) rather than silently changing.
* Learning-rate schedules, weight EMA and checkpoints count `optimizer.iterations`,
  one per global step on every replica.

Multi-worker runs (`MultiWorkerMirroredStrategy`, configured by `TF_CONFIG`): every
worker runs the same command; the chief (task 0 of "worker", or the "chief" task)
writes the run directory, the other workers write to a temporary directory that is
deleted at the end, and every worker restores `BackupAndRestore` state from the
chief's run directory (a shared file system, as TensorFlow's own fault tolerance
assumes). The validation EER callback runs on the chief only, outside the
strategy (an eager call of the encoder, no collective ops).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import keras

from speaker_tf.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


@dataclass(frozen=True)
class Worker:
    """This process's place in a (possibly one-process) cluster."""

    task_type: str = "worker"
    task_id: int = 0
    num_workers: int = 1

    @property
    def is_chief(self) -> bool:
        if self.task_type == "chief":
            return True
        return self.task_type == "worker" and self.task_id == 0 and not _has_chief_task()


def _tf_config() -> dict:
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({error}): {text[:200]!r}") from None


def _has_chief_task() -> bool:
    return bool(_tf_config().get("cluster", {}).get("chief"))


def current_worker() -> Worker:
    """Task type / index from TF_CONFIG (one worker when it is unset)."""
    config = _tf_config()
    if not config:
        return Worker()
    cluster, task = config.get("cluster", {}), config.get("task", {})
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    return Worker(str(task.get("type", "worker")), int(task.get("index", 0)), max(workers, 1))


def _split_logical_cpus(devices: Sequence[str]) -> None:
    """`/cpu:N` devices beyond the one physical CPU: split it into N + 1 logical devices.

    Must run before TensorFlow initialises its runtime (the first op), so the
    trainer builds the strategy first.
    """
    import tensorflow as tf

    indices = [int(d.rsplit(":", 1)[1]) for d in devices if "cpu:" in d.lower()]
    if not indices or max(indices) == 0:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * (max(indices) + 1)
        )
    except RuntimeError as error:  # already initialised: fine if the devices exist
        if len(tf.config.list_logical_devices("CPU")) > max(indices):
            return
        raise ConfigError(
            f"train.devices={list(devices)} needs {max(indices) + 1} logical CPU devices, but TensorFlow "
            f"was already initialised ({error}); build the strategy before any other TensorFlow call"
        ) from None


def build_strategy(name: str, devices: Sequence[str] = ()):
    """The `tf.distribute.Strategy` named by `train.strategy`.

    default: TensorFlow's default (one device); mirrored: all local GPUs, or
    `devices` (e.g. ("/gpu:0", "/gpu:1"), or ("/cpu:0", "/cpu:1") for two logical
    CPU devices); multiworker: `MultiWorkerMirroredStrategy` from TF_CONFIG; tpu:
    `TPUStrategy` on the TPU named by `devices[0]` (default: the local one).
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigError(f"train.strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if devices and name not in ("mirrored", "tpu"):
        raise ConfigError(f"train.devices={list(devices)} is only used by 'mirrored' or 'tpu', not {name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        _split_logical_cpus(devices)
        return tf.distribute.MirroredStrategy(list(devices) or None)
    if name == "multiworker":
        if not _tf_config():
            raise ConfigError(
                "train.strategy='multiworker' needs TF_CONFIG (cluster and task) in the environment"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=devices[0] if devices else "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def check_config(config, replicas: int) -> None:
    """Refuse settings that would silently change under `replicas` replicas."""
    if replicas <= 1:
        return
    batch = config.data.speakers_per_batch * config.data.utterances_per_speaker
    if batch % replicas:
        raise ConfigError(
            f"the global batch P x K = {config.data.speakers_per_batch} x "
            f"{config.data.utterances_per_speaker} = {batch} does not split evenly over {replicas} "
            "replicas; choose P x K divisible by the number of replicas"
        )
    if config.loss.center_weight > 0:
        raise ConfigError(
            f"loss.center_weight > 0 (centre loss) is not supported with {replicas} replicas: its "
            "per-class centres are updated inside the model from each replica's share of the batch"
        )
    if config.train.strategy == "multiworker" and (
        config.train.early_stopping_patience > 0 or config.optim.reduce_on_plateau
    ):
        raise ConfigError(
            "train.early_stopping_patience / optim.reduce_on_plateau read val_eer, which only the chief "
            "computes; they are not supported with train.strategy='multiworker'"
        )


@keras.saving.register_keras_serializable(package="speaker_tf")
class CrossReplicaLoss(keras.losses.Loss):
    """A batch-level loss computed on the global batch gathered from all replicas.

    Outside a multi-replica `strategy.run` it is the wrapped loss itself. Inside,
    it all-gathers `y_true` and `y_pred` and returns loss / R, so that Keras'
    sum of the replicas' gradients equals the single-device gradient.
    """

    def __init__(self, loss: keras.losses.Loss, name: str | None = None, **kwargs):
        super().__init__(name=name or f"cross_replica_{loss.name}", **kwargs)
        self.loss = loss

    def call(self, y_true, y_pred):
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if replicas == 1:
            return self.loss(y_true, y_pred)
        # One tensor per call: TF's all_gather gradient packs the gradients of a list into one
        # tensor, which fails for tensors of different ranks.
        y_true = context.all_gather(tf.stop_gradient(y_true), axis=0)
        y_pred = context.all_gather(y_pred, axis=0)
        return self.loss(y_true, y_pred) / replicas

    def get_config(self) -> dict:
        config = super().get_config()
        config["loss"] = keras.saving.serialize_keras_object(self.loss)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "CrossReplicaLoss":
        config = dict(config)
        config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        return cls(**config)


def sync_batch_norm(model: keras.Model, replicas: int) -> None:
    """With several replicas, make every BatchNormalization use the global batch's statistics.

    Keras' `synchronized=True` all-reduces the moments across replicas, so a replica
    normalises its share as one device normalises the whole batch. With one replica the
    model is left as built (the synchronised moments use a different variance formula).
    """
    if replicas <= 1:
        return
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def gather_batch_losses(compile_args: dict, batch_level: Sequence[str]) -> dict:
    """`compile` arguments with the losses of the `batch_level` outputs wrapped in CrossReplicaLoss."""
    losses = compile_args.get("loss")
    if not losses:
        return compile_args
    wrapped = {name: CrossReplicaLoss(loss) if name in batch_level else loss for name, loss in losses.items()}
    return {**compile_args, "loss": wrapped}


class WorkerBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that restores from `restore_dir` (the chief's) and saves to `backup_dir`.

    On the chief both are the run's backup folder; on other workers `backup_dir`
    is a temporary folder, so only the chief's files are ever read back.
    """

    def __init__(self, backup_dir: str, restore_dir: str, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.restore_dir = restore_dir

    def on_train_begin(self, logs=None):
        saved = (self._weights_path, self._training_metadata_path)
        self._weights_path = os.path.join(self.restore_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.restore_dir, "training_metadata.json")
        try:
            super().on_train_begin(logs)
        finally:
            self._weights_path, self._training_metadata_path = saved


def batch_level_terms(config) -> tuple[str, ...]:
    """Names of the loss terms computed on the embedding of the whole batch (triplet, SupCon)."""
    from speaker_tf.training.objectives import loss_terms

    return tuple(name for name, term in loss_terms(config).items() if term.source == "embedding")


def distribute_dataset(strategy, make_dataset, global_batch: int):
    """The training stream for `fit`: `make_dataset(shard_index, num_shards)` per input pipeline.

    With one replica: `make_dataset(0, 1)` itself. Otherwise one pipeline per worker
    produces only that worker's rows of each global batch (nothing is read twice),
    re-batched into per-replica batches; replica r of worker w gets rows
    [(w * R_w + r) * b, (w * R_w + r + 1) * b) of the global batch, b = B / R.
    """
    import tensorflow as tf

    if strategy.num_replicas_in_sync == 1:
        return make_dataset(0, 1)

    def per_worker(context: tf.distribute.InputContext):
        dataset = make_dataset(context.input_pipeline_id, context.num_input_pipelines)
        return dataset.rebatch(context.get_per_replica_batch_size(global_batch), drop_remainder=True)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(per_worker, options)


def build_for_fit(model: keras.Model, strategy, make_dataset) -> None:
    """Multi-worker only: work around two Keras 3 steps of `fit` that fail under MultiWorkerMirroredStrategy.

    Keras 3's `fit` builds a model created under a strategy from its first
    distributed batch, reduced with `strategy.reduce(..., axis=None)`, which
    MultiWorkerMirroredStrategy rejects for dict inputs (each value a PerReplica).
    Building from a local batch of the same structure, then skipping that step,
    gives the same variables.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    batch = next(iter(make_dataset(0, 1).take(1)))
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda *args, **kwargs: None
    # Keras 3 also reduces each step's logs with strategy.reduce("MEAN", value, axis=0) under
    # MultiWorkerMirroredStrategy, which fails for scalars: hand it [1]-vectors (the mean of
    # the replicas' values, as on one worker).
    train_step = model.train_step

    def rank1_train_step(data):
        logs = train_step(data)
        return {k: tf.reshape(v, [1]) if v.shape.rank == 0 else v for k, v in logs.items()}

    model.train_step = rank1_train_step


def run_dirs(worker: Worker, out: str, experiment: str, config, resume: str | None):
    """(the run directory this process writes, the chief's run directory or None).

    The chief (and a single process) writes `out/<experiment>/<timestamp>/` or the
    resumed run; another worker writes a temporary copy and reads backups from the
    chief's run given by `resume`.
    """
    import tempfile

    from speaker_tf.training.resume import open_unfinished
    from speaker_tf.training.run_dir import RunDir

    chief = open_unfinished(resume) if resume else None
    if worker.is_chief:
        return (chief or RunDir.create(out, experiment, config)), chief
    temp = tempfile.mkdtemp(prefix=f"speaker_tf_{worker.task_type}{worker.task_id}_")
    return RunDir.create(temp, experiment, config), chief


def remove_worker_dir(run) -> None:
    """Delete a non-chief worker's temporary run directory (its parent temp folder)."""
    import shutil

    shutil.rmtree(run.path.parent.parent, ignore_errors=True)


def worker_callbacks(callbacks: list, worker: Worker, encoder: keras.Model, chief_run, replicas: int) -> list:
    """The run's callbacks adapted to this worker and `replicas` replicas.

    Every worker restores backups from the chief's run (`chief_run`, or its own
    when it is the chief); only the chief validates, with eager calls of `encoder`:
    under a strategy `predict_on_batch` runs the batch on every replica and
    concatenates the copies, and under multiworker it is a collective step the
    other workers would have to join.
    """
    from speaker_tf.evaluation.callback import VerificationCallback
    from speaker_tf.training.callbacks import ProjectorCallback

    if replicas == 1:
        return callbacks
    adapted = []
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.BackupAndRestore):
            restore = str(chief_run.backup) if chief_run is not None else callback.backup_dir
            callback = WorkerBackupAndRestore(
                callback.backup_dir,
                restore,
                save_freq=callback.save_freq,
                delete_checkpoint=callback.delete_checkpoint and worker.is_chief,
                double_checkpoint=callback.double_checkpoint,
            )
        elif isinstance(callback, (VerificationCallback, ProjectorCallback)):
            if not worker.is_chief:
                continue
            callback.encoder = EagerEncoder(encoder)
        adapted.append(callback)
    return adapted


class EagerEncoder:
    """`encoder` called eagerly (inference mode), with the `predict_on_batch` the callbacks use.

    Under a strategy `predict_on_batch` feeds the batch to every replica (and, with
    several workers, is a collective step all must join); an eager call runs it once.
    """

    def __init__(self, encoder: keras.Model):
        self.encoder = encoder

    def __call__(self, batch):
        return self.encoder(batch, training=False)

    def predict_on_batch(self, batch):
        return keras.ops.convert_to_numpy(self(batch))


def detached_copy(encoder: keras.Model, build) -> keras.Model:
    """A copy of `encoder` built by `build()` (call it outside the strategy scope) with the same weights."""
    copy = build()
    copy.set_weights(encoder.get_weights())
    return copy
