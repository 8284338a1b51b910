"""What a resumed run needs beyond `keras.callbacks.BackupAndRestore`.

BackupAndRestore restores the weights, the optimizer (its step counter
included) and the epoch. Three more things decide the numbers of the epochs
that follow, and this module carries them across a kill:

* the data stream: `train_dataset` draws batch s from step index s, so the
  trainer starts it at the restored step (`restore_point(...).step`); not
  exact under `train.data_service`, whose batches arrive out of order
  (speaker_tf/data/service.py);
* the random state of the layers (dropout, SpecAugment): Keras `SeedGenerator`
  states are variables the weights file leaves out, and so are the step
  counters losses keep (the AAM margin warm-up);
* the bookkeeping of callbacks that compare epochs (the best `val_eer` of
  ModelCheckpoint, EarlyStopping's patience, ReduceLROnPlateau's), which
  Keras resets at each `fit`.

It also records the training time of each piece of a run, so metrics.json
divides all steps by the time all pieces took.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
from keras import tree

from speaker_tf.errors import ConfigError
from speaker_tf.training.run_dir import METRICS_FILE, RunDir

STATE_FILE = "resume_state.json"
KERAS_METADATA = "training_metadata.json"  # written by keras.callbacks.BackupAndRestore
_CALLBACK_STATE = {  # attributes that carry a callback's memory of earlier epochs
    keras.callbacks.ModelCheckpoint: ("best",),
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "cooldown", "best"),
}


@dataclass(frozen=True)
class RestorePoint:
    """Where a (possibly resumed) run starts: epochs and steps already done, by earlier pieces."""

    epoch: int = 0
    step: int = 0
    pieces: tuple[dict[str, float], ...] = ()  # {"steps", "seconds"} of each earlier piece
    state: dict[str, Any] | None = field(default=None, compare=False)  # seeds and callbacks


def restore_point(backup: Path, steps_per_epoch: int) -> RestorePoint:
    """The restore point of a run's backup folder (the start when there is none).

    The epoch comes from BackupAndRestore's own metadata, which is what Keras
    restores; our state file is used only when it belongs to that same epoch
    (a kill between the two writes leaves it one epoch behind).
    """
    metadata = Path(backup) / KERAS_METADATA
    if not metadata.is_file():
        return RestorePoint()
    epoch = int(json.loads(metadata.read_text(encoding="utf-8"))["epoch"])
    state_file = Path(backup) / STATE_FILE
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None
    if state is None or state.get("epoch") != epoch:
        print(
            f"warning: {state_file} does not describe the backup of epoch {epoch}; the run resumes "
            "with fresh layer random state and checkpoint bookkeeping"
        )
        state = None
    pieces = tuple(state["pieces"]) if state else ()
    return RestorePoint(epoch=epoch, step=epoch * steps_per_epoch, pieces=pieces, state=state)


def open_unfinished(path: str | Path) -> RunDir:
    """The run directory to resume; a finished run is refused (resuming would train it again)."""
    run = RunDir.open(path)
    if (run.path / METRICS_FILE).is_file():
        raise ConfigError(
            f"{str(run.path)!r} is a finished run (it has {METRICS_FILE}): there is nothing to resume"
        )
    return run


def seed_variables(model: keras.Model) -> list[keras.Variable]:
    """The state variables of every `keras.random.SeedGenerator` in the model, in model order."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def loss_counters(model: keras.Model) -> list[keras.Variable]:
    """Step counters that compiled losses keep for themselves (the AAM margin warm-up's `step`)."""
    losses = model.loss.values() if isinstance(model.loss, Mapping) else tree.flatten(model.loss)
    return [loss.step for loss in losses if isinstance(getattr(loss, "step", None), keras.Variable)]


class ResumeState(keras.callbacks.Callback):
    """Save (at each epoch end) and restore (at the start of fit) what BackupAndRestore leaves out.

    Put it after every other callback: it must read ModelCheckpoint / EarlyStopping
    after they updated at an epoch's end, and restore them after they reset at
    the start of `fit`. It writes `backup/resume_state.json`, removed with the
    backup when the run finishes.
    """

    def __init__(self, backup: Path, callbacks: list[keras.callbacks.Callback], restored: RestorePoint):
        super().__init__()
        self.backup = Path(backup)
        self.callbacks = list(callbacks)
        self.restored = restored
        self._started = 0.0

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        step = int(self.model.optimizer.iterations.numpy())
        if step != self.restored.step:
            raise ConfigError(
                f"the backup in {str(self.backup)!r} restored step {step}, but the data stream was "
                f"started at step {self.restored.step}; the backup is inconsistent"
            )
        state = self.restored.state
        if not state:
            return
        variables = seed_variables(self.model)
        if len(variables) != len(state["seeds"]):  # (paths carry process-dependent name suffixes)
            raise ConfigError(f"the backup in {str(self.backup)!r} belongs to a different model")
        for variable, (_, value) in zip(variables, state["seeds"], strict=True):
            variable.assign(value)
        for variable, value in zip(loss_counters(self.model), state["loss_counters"], strict=True):
            variable.assign(value)
        for index, attributes in state["callbacks"].items():
            for name, value in attributes.items():
                setattr(self.callbacks[int(index)], name, value)

    def piece(self) -> dict[str, float]:
        """This piece so far: the steps it trained and the seconds since fit started."""
        steps = int(self.model.optimizer.iterations.numpy()) - self.restored.step
        return {"steps": steps, "seconds": round(time.perf_counter() - self._started, 3)}

    def on_epoch_end(self, epoch, logs=None):
        state = {
            "epoch": epoch + 1,
            "pieces": [*self.restored.pieces, self.piece()],
            "seeds": [(v.path, keras.ops.convert_to_numpy(v).tolist()) for v in seed_variables(self.model)],
            "loss_counters": [float(keras.ops.convert_to_numpy(v)) for v in loss_counters(self.model)],
            "callbacks": self._callback_state(),
        }
        self.backup.mkdir(parents=True, exist_ok=True)
        tmp = self.backup / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.backup / STATE_FILE)  # never a half-written state file

    def _callback_state(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for index, callback in enumerate(self.callbacks):
            for kind, names in _CALLBACK_STATE.items():
                if isinstance(callback, kind):
                    out[str(index)] = {n: _plain(getattr(callback, n)) for n in names if hasattr(callback, n)}
        return out


def _plain(value: Any) -> Any:
    """A JSON value for a callback attribute (NumPy scalars -> Python; +-inf kept as floats)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return float(value)  # +-inf is kept: Python's json writes and reads Infinity


def total_seconds(pieces: list[dict[str, float]]) -> float:
    return float(sum(p["seconds"] for p in pieces))
