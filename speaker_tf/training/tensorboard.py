"""TensorBoard logs of a run, laid out so that `tensorboard --logdir RUN/logs` shows everything.

One convention: the x axis of every summary is the optimizer step (batches
trained, counted across resumed pieces). Runs (sub-folders of `logs/`):

* `train/`: `epoch_<metric>` (means over the epoch, written at its last step),
  `batch_<metric>` (means over the last `update_freq` steps), `*_learning_rate`,
  and the encoder's graph (traced once in inference mode; op names carry the
  block names).
* `validation/`: `epoch_<metric>` of every `val_*` entry of the epoch logs
  (EER, minDCF, validation loss terms), so TensorBoard draws each beside its
  training curve of the same tag; the DET image.
* `test/`: the final test metrics of the finished model.
* `projector/`: validation embeddings with speaker labels (see `ProjectorCallback`).
* `logs/` itself: the run's config in the HParams dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from speaker_tf.config.base import ExperimentConfig, flatten

FINAL_METRICS = (
    "eer",
    "min_dcf_p01",
    "min_dcf_p05",
    "identification_accuracy",
    "baseline_eer",
    "fused_eer",
)  # of metrics.json, written to logs/test/
HPARAM_METRICS = (  # (run, tag) shown as columns in the HParams dashboard
    ("validation", "epoch_eer"),
    ("validation", "epoch_min_dcf"),
    ("test", "eer"),
    ("test", "min_dcf_p01"),
    ("test", "min_dcf_p05"),
    ("train", "epoch_loss"),
)


def hparams(config: ExperimentConfig) -> dict[str, bool | int | float | str]:
    """The config as flat `section.key` -> scalar (lists as JSON text), for the HParams plugin."""
    out: dict[str, bool | int | float | str] = {}
    for key, value in flatten(config.to_dict()).items():
        out[key] = value if isinstance(value, (bool, int, float, str)) else json.dumps(value)
    return out


def write_hparams(log_dir: Path, config: ExperimentConfig, trial_id: str) -> None:
    """The run's config as an HParams session in `log_dir` (runs of any experiment compare in one view)."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    values = hparams(config)
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in values],
            metrics=[hp.Metric(tag, group=run) for run, tag in HPARAM_METRICS],
        )
        hp.hparams(values, trial_id=trial_id)
    writer.close()


def write_final_metrics(log_dir: Path, results: Mapping[str, Any], step: int) -> None:
    """The finished model's test metrics as scalars of the `test` run (at the last training step)."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(Path(log_dir) / "test"))
    with writer.as_default(step=step):
        for name in FINAL_METRICS:
            if name in results:
                tf.summary.scalar(name, float(results[name]))
    writer.close()


def write_graph(log_dir: Path, encoder: keras.Model, samples: int) -> None:
    """The encoder's inference graph for TensorBoard's Graphs dashboard, in the `train` run.

    (The training model's own Keras summary cannot be drawn: TensorBoard's
    conceptual-graph reader fails on models with dict outputs.)
    """
    import tensorflow as tf

    function = tf.function(lambda waveform: encoder(waveform, training=False))
    graph = function.get_concrete_function(tf.TensorSpec([None, samples], tf.float32, name="waveform")).graph
    writer = tf.summary.create_file_writer(str(Path(log_dir) / "train"))
    with writer.as_default():
        tf.summary.graph(graph)
    writer.close()


class RunTensorBoard(keras.callbacks.Callback):
    """Epoch and per-step scalars at the optimizer step; see the module docstring.

    Per-step values: Keras passes running means since the epoch began to
    `on_train_batch_end`, so the mean over the last n steps is recovered as
    (N * mean_N - M * mean_M) / (N - M).
    """

    def __init__(self, log_dir: Path, update_freq: int = 10):
        super().__init__()
        if int(update_freq) < 1:
            raise ValueError(f"update_freq must be >= 1, got {update_freq!r}")
        self.log_dir = Path(log_dir)
        self.update_freq = int(update_freq)
        self._writers: dict[str, Any] = {}
        self._last: tuple[int, dict[str, float]] = (0, {})

    def _writer(self, run: str):
        import tensorflow as tf

        if run not in self._writers:
            self._writers[run] = tf.summary.create_file_writer(str(self.log_dir / run))
        return self._writers[run]

    def _step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    def _learning_rate(self) -> float:
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        self._last = (0, {})

    def on_train_batch_end(self, batch, logs=None):
        import tensorflow as tf

        step = self._step()
        if step % self.update_freq or not logs:
            return
        n = batch + 1
        m, previous = self._last
        means = {k: float(v) for k, v in logs.items() if _is_number(v)}
        with self._writer("train").as_default(step=step):
            for name, mean in means.items():
                value = (n * mean - m * previous[name]) / (n - m) if m else mean
                tf.summary.scalar(f"batch_{name}", value)
            tf.summary.scalar("batch_learning_rate", self._learning_rate())
        self._last = (n, means)

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        step = self._step()
        logs = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        with self._writer("train").as_default(step=step):
            for name, value in logs.items():
                if not name.startswith("val_"):
                    tf.summary.scalar(f"epoch_{name}", value)
            tf.summary.scalar("epoch_learning_rate", self._learning_rate())
        with self._writer("validation").as_default(step=step):
            for name, value in logs.items():
                if name.startswith("val_"):
                    tf.summary.scalar(f"epoch_{name[4:]}", value)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
