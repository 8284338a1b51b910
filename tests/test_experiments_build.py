"""Every experiment's model builds as its note describes, and trains one step with its own losses."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from speaker_tf.config.experiment import experiment_names, load_experiment
from speaker_tf.models import build_classifier, build_encoder
from speaker_tf.training.objectives import needs_head, training_model
from speaker_tf.training.schedules import build_optimizer
from speaker_tf.training.trainer import resolve_config

NAMES = experiment_names()


@pytest.fixture(autouse=True)
def fresh_keras_state():
    yield
    keras.utils.clear_session(free_memory=True)


@pytest.mark.parametrize("name", NAMES)
def test_note_faithful_encoder_builds_and_embeds(name):
    config = load_experiment(name).config
    encoder = build_encoder(config.model, int(config.data.crop_seconds * config.data.sample_rate))
    waveform = np.random.default_rng(0).standard_normal((2, encoder.min_samples + 160)).astype("float32")
    embedding = keras.ops.convert_to_numpy(encoder(waveform, training=False))  # eager: no tracing
    assert embedding.shape == (2, config.model.embedding_dim)
    assert np.all(np.isfinite(embedding))
    if config.model.fc.embedding_norm == "l2":
        np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_one_training_step_with_the_experiments_losses(name):
    config = resolve_config(load_experiment(name), ["data.crop_seconds=0.5"], profile="quick")
    speakers = 4
    encoder = build_encoder(config.model, int(config.data.crop_seconds * config.data.sample_rate))
    classifier = build_classifier(encoder, config.model, speakers) if needs_head(config) else encoder
    model, compile_args = training_model(classifier, config, speakers)
    # eager: one step needs no traced train function, which would cost seconds per experiment
    model.compile(optimizer=build_optimizer(config.optim, 10), run_eagerly=True, **compile_args)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(speakers), 2).astype("int32")
    waveform = rng.standard_normal((labels.size, 8000)).astype("float32")
    inputs = (
        {"waveform": waveform, "label": labels} if config.loss.center_weight > 0 else {"waveform": waveform}
    )
    before = [v.numpy().copy() for v in encoder.trainable_variables]
    logs = model.train_on_batch(inputs, {name: labels for name in model.output_names}, return_dict=True)
    assert np.isfinite(logs["loss"])
    changed = sum(
        not np.array_equal(b, v.numpy()) for b, v in zip(before, encoder.trainable_variables, strict=True)
    )
    assert changed > 0
