"""Resume pieces on tiny models: the data stream's start step, layer random state, callback memory."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from speaker_tf.config import DataConfig
from speaker_tf.training.resume import STATE_FILE, RestorePoint, ResumeState, restore_point, seed_variables


def test_train_dataset_starts_at_the_given_step(tiny_corpus):
    """Batch s of a stream started at step s is batch s of the stream started at 0."""
    from speaker_tf.data.pipeline import train_dataset
    from speaker_tf.training.splits import load_run_data

    data = load_run_data(DataConfig(root=str(tiny_corpus)), n_trials=10, seed=0)
    config = DataConfig(speakers_per_batch=2, utterances_per_speaker=2, crop_seconds=0.25)
    whole = list(train_dataset(data.train_paths, data.train_labels, config, seed=5).take(5))
    later = list(train_dataset(data.train_paths, data.train_labels, config, seed=5, start_step=3).take(2))
    for (x, y), (x_ref, y_ref) in zip(later, whole[3:], strict=True):
        np.testing.assert_array_equal(x.numpy(), x_ref.numpy())
        np.testing.assert_array_equal(y.numpy(), y_ref.numpy())
    assert not np.array_equal(later[0][0].numpy(), whole[0][0].numpy())
    with pytest.raises(ValueError, match="start_step must be a non-negative integer, got -1"):
        train_dataset(data.train_paths, data.train_labels, config, seed=5, start_step=-1)


X = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
Y = (X @ np.arange(6.0).astype("float32"))[:, None]


def _model() -> keras.Model:
    """Dropout draws from a SeedGenerator: its state decides the masks of every later step."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dropout(0.5)(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def _fit(model, backup, epochs, extra=()):
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(backup.parent / "best.weights.h5"), monitor="loss", save_best_only=True, save_weights_only=True
    )
    callbacks = [keras.callbacks.BackupAndRestore(str(backup)), checkpoint, *extra]
    restored = restore_point(backup, steps_per_epoch=4)
    state = ResumeState(backup, callbacks, restored)
    model.fit(X, Y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=[*callbacks, state])
    return checkpoint, state, restored


class _Stop(keras.callbacks.Callback):
    """Kill the run in the middle of epoch `epoch` (0-based), after the previous epoch's backup."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self._epoch and batch == 1:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_killed_and_resumed_fit_equals_an_uninterrupted_one(tmp_path):
    """Dropout masks after a resume continue the uninterrupted run's (SeedGenerator state restored)."""
    reference = _model()
    _fit(reference, tmp_path / "a" / "backup", epochs=3)

    first = _model()
    with pytest.raises(KeyboardInterrupt):
        _fit(first, tmp_path / "b" / "backup", epochs=3, extra=[_Stop(2)])
    state = json.loads((tmp_path / "b" / "backup" / STATE_FILE).read_text())
    assert state["epoch"] == 2 and state["pieces"][0]["steps"] == 8 and len(state["seeds"]) == 1
    assert state["callbacks"]["1"]["best"] < np.inf

    resumed = _model()
    assert not np.array_equal(seed_variables(resumed)[0].numpy(), state["seeds"][0][1])
    checkpoint, piece, restored = _fit(resumed, tmp_path / "b" / "backup", epochs=3)
    assert restored.step == 8 and restored.epoch == 2
    assert checkpoint.best <= state["callbacks"]["1"]["best"]  # carried over, not reset to inf
    assert piece.piece()["steps"] == 4
    for a, b in zip(reference.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_state_file_of_another_epoch_is_not_used(tmp_path, capsys):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text('{"epoch": 3, "batch": 0}')
    (backup / STATE_FILE).write_text(json.dumps({"epoch": 2, "pieces": [], "seeds": [], "callbacks": {}}))
    point = restore_point(backup, steps_per_epoch=10)
    assert (point.epoch, point.step, point.state) == (3, 30, None)
    assert "does not describe the backup of epoch 3" in capsys.readouterr().out
    assert restore_point(tmp_path / "nowhere", steps_per_epoch=10) == RestorePoint()


def test_the_aam_margin_warm_up_continues_after_a_resume(tmp_path):
    """The AAM loss counts its own steps in a variable the backup leaves out."""
    from speaker_tf.losses import AdditiveAngularMarginLoss

    labels = np.arange(32) % 3

    def model_and_loss():
        keras.utils.set_random_seed(1)
        inputs = keras.Input((6,))
        model = keras.Model(inputs, keras.layers.UnitNormalization()(keras.layers.Dense(3)(inputs)))
        loss = AdditiveAngularMarginLoss(scale=10.0, margin=0.2, warmup_steps=100)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
        return model, loss

    backup = tmp_path / "backup"

    def fit(model, epochs, extra=()):
        callbacks = [keras.callbacks.BackupAndRestore(str(backup)), *extra]
        state = ResumeState(backup, callbacks, restore_point(backup, steps_per_epoch=4))
        model.fit(
            X, labels, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=[*callbacks, state]
        )

    model, loss = model_and_loss()
    with pytest.raises(KeyboardInterrupt):
        fit(model, 3, extra=[_Stop(1)])
    assert json.loads((backup / STATE_FILE).read_text())["loss_counters"] == [4.0]
    model, loss = model_and_loss()
    fit(model, 3)
    assert float(loss.step.numpy()) == 12.0  # 3 epochs x 4 steps, as without the interruption
