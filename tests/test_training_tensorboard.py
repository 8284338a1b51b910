"""TensorBoard logging of a run and the validation loss, on tiny models (the quick run's logs are
checked in test_training_run.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from speaker_tf.training.tensorboard import RunTensorBoard, hparams
from speaker_tf.training.validation_loss import ValidationLoss, fixed_batches


def _scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    acc.Reload()
    return {
        tag: [(e.step, float(make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
        for tag in acc.Tags()["tensors"]
    }


def test_per_step_scalars_are_means_of_the_last_steps_and_the_learning_rate(tmp_path):
    """With a frozen model (learning rate 0) each batch's loss is known in NumPy."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)).astype("float32"), rng.normal(size=(24, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.PolynomialDecay(0.0, decay_steps=12, end_learning_rate=0.0)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    w, b = (v.numpy() for v in model.weights)
    batch_losses = [float(np.mean((x[i : i + 4] @ w + b - y[i : i + 4]) ** 2)) for i in range(0, 24, 4)]

    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[RunTensorBoard(tmp_path, 2)])
    train = _scalars(tmp_path / "train")
    expected = [(2 * (i + 1), np.mean(batch_losses[(2 * i) % 6 : (2 * i) % 6 + 2])) for i in range(6)]
    assert [s for s, _ in train["batch_loss"]] == [s for s, _ in expected]  # optimizer steps, both epochs
    np.testing.assert_allclose([v for _, v in train["batch_loss"]], [v for _, v in expected], rtol=1e-5)
    assert [s for s, _ in train["epoch_loss"]] == [6, 12]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], np.mean(batch_losses), rtol=1e-5)
    assert [s for s, _ in train["batch_learning_rate"]] == [2, 4, 6, 8, 10, 12]
    with pytest.raises(ValueError, match="update_freq must be >= 1, got 0"):
        RunTensorBoard(tmp_path, 0)


def test_hparams_are_flat_scalars_of_the_whole_config():
    from speaker_tf.config import ExperimentConfig
    from speaker_tf.config.base import all_keys

    config = ExperimentConfig().override({"name": "exp_x", "train.seed": 7})
    values = hparams(config)
    assert set(values) == set(all_keys(config))
    assert values["name"] == "exp_x" and values["train.seed"] == 7
    assert values["model.e_block.channels"] == str(list(config.model.e_block.channels)).replace("'", '"')
    assert all(isinstance(v, (bool, int, float, str)) for v in values.values())


def test_fixed_batches_draw_p_distinct_speakers_of_k_rows():
    speakers = ["a"] * 5 + ["b"] * 2 + ["c"] * 4
    batches = fixed_batches(speakers, p=2, k=3, n_batches=6, seed=0)
    assert len(batches) == 6
    for index, labels in batches:
        names = np.array(speakers)[index]
        assert len(index) == 6 and len(set(names[:3])) == 1 and len(set(names[3:])) == 1
        assert names[0] != names[3]
        assert len(set(labels[:3])) == 1 and labels[0] != labels[3]
        assert len(set(index[:3])) == min(3, speakers.count(names[0]))  # repeats only when short
    assert [i.tolist() for i, _ in batches] == [i.tolist() for i, _ in fixed_batches(speakers, 2, 3, 6, 0)]
    assert fixed_batches(["a", "a"], 2, 2, 3, 0) == []
    assert len(fixed_batches(speakers, p=8, k=2, n_batches=1, seed=0)[0][0]) == 6  # P capped at 3 speakers


def test_validation_loss_is_the_embedding_terms_on_fixed_batches():
    from speaker_tf.losses import TripletSemiHardLoss
    from speaker_tf.training.objectives import Term

    class Verification:  # what ValidationLoss reads of a VerificationCallback
        utterances = [f"spk{i % 3}/u{i}.wav" for i in range(12)]
        last_embeddings = np.random.default_rng(1).normal(size=(12, 4))

    triplet = TripletSemiHardLoss(margin=0.5)
    head = Term("logits", keras.losses.SparseCategoricalCrossentropy(from_logits=True), 0.5)
    terms = {"triplet": Term("embedding", triplet, 2.0)}
    callback = ValidationLoss(
        Verification(), terms, speakers_per_batch=2, utterances_per_speaker=2, n_batches=3
    )
    logs = {"val_eer": 0.1}
    callback.on_epoch_end(0, logs)
    emb = Verification.last_embeddings.astype("float32")
    expected = np.mean([float(triplet(labels, emb[index])) for index, labels in callback.batches])
    assert logs["val_triplet_loss"] == pytest.approx(expected, rel=1e-6)
    assert logs["val_loss"] == pytest.approx(2.0 * expected, rel=1e-6)

    partial = ValidationLoss(Verification(), {**terms, "cross_entropy": head}, 2, 2, n_batches=3)
    logs = {"val_eer": 0.1}
    partial.on_epoch_end(0, logs)
    assert "val_triplet_loss" in logs and "val_loss" not in logs  # no head term on unseen speakers
    skipped = {}
    partial.on_epoch_end(1, skipped)  # an epoch the verification callback did not evaluate
    assert skipped == {}
