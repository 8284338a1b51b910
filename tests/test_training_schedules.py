"""Learning-rate schedules and the optimiser built from the config, against hand formulas."""

import math

import keras
import numpy as np
import pytest

from speaker_tf.config import ExperimentConfig, OptimConfig
from speaker_tf.errors import ConfigError
from speaker_tf.training.schedules import SGDRExponential, WarmupCosine, build_optimizer, build_schedule


def sgdr_reference(step, lr, first, t_mul, m_mul, alpha, decay_steps, decay_rate):
    """Loshchilov & Hutter 2017 restarts, written as a loop over cycles, times exponential decay."""
    period, start, peak = first, 0, lr
    while step >= start + period:
        start, period, peak = start + period, period * t_mul, peak * m_mul
    frac = (step - start) / period
    cosine = 0.5 * (1 + math.cos(math.pi * frac))
    return (peak / lr) * lr * ((1 - alpha) * cosine + alpha) * decay_rate ** (step / decay_steps)


@pytest.mark.parametrize("step", [0, 1, 499, 999, 1000, 1500, 2999, 3000, 6999, 7000, 20000])
def test_sgdr_times_exponential_matches_reference(step):
    schedule = SGDRExponential(
        1e-3, 1000, t_mul=2.0, m_mul=1.0, alpha=0.1, decay_steps=1000, decay_rate=0.999
    )
    expected = sgdr_reference(step, 1e-3, 1000, 2.0, 1.0, 0.1, 1000, 0.999)
    assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)


def test_sgdr_restarts_to_the_peak_after_each_cycle():
    schedule = SGDRExponential(1e-3, 1000, decay_rate=1.0)
    # cycles of 1000, 2000, 4000 steps: restarts at 1000, 3000 and 7000
    for restart in (1000, 3000, 7000):
        assert float(schedule(restart)) == pytest.approx(1e-3, rel=1e-5)
        assert float(schedule(restart - 1)) == pytest.approx(1e-4, rel=1e-2)


def test_warmup_cosine_by_hand():
    schedule = WarmupCosine(1.0, total_steps=110, warmup_steps=10, floor=0.1)
    assert float(schedule(0)) == pytest.approx(0.1)  # (0 + 1) / 10
    assert float(schedule(9)) == pytest.approx(1.0)
    assert float(schedule(10)) == pytest.approx(1.0)  # cosine starts at its peak
    assert float(schedule(60)) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: cos(pi/2) = 0
    assert float(schedule(110)) == pytest.approx(0.1)
    assert float(schedule(500)) == pytest.approx(0.1)  # stays at the floor


def test_warmup_cosine_rejects_impossible_lengths():
    with pytest.raises(ValueError, match="warmup_steps < total_steps"):
        WarmupCosine(1.0, total_steps=10, warmup_steps=10)


def test_schedules_round_trip_through_config():
    for schedule in (SGDRExponential(1e-3, 500), WarmupCosine(2e-3, 100, 5, 0.02)):
        clone = type(schedule).from_config(schedule.get_config())
        steps = np.arange(0, 3000, 97)
        np.testing.assert_allclose([float(clone(s)) for s in steps], [float(schedule(s)) for s in steps])


def test_step_decay_is_a_staircase():
    schedule = build_schedule(OptimConfig(schedule="step", decay_steps=100, decay_rate=0.5), 1000)
    assert float(schedule(99)) == pytest.approx(1e-3)
    assert float(schedule(100)) == pytest.approx(5e-4)
    assert float(schedule(250)) == pytest.approx(2.5e-4)


def test_optimizer_carries_ema_and_clipping():
    optimizer = build_optimizer(OptimConfig(optimizer="adam", ema=0.99, clipnorm=1.0), 100)
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.use_ema and optimizer.ema_momentum == 0.99 and optimizer.clipnorm == 1.0
    assert isinstance(build_optimizer(OptimConfig(), 100), keras.optimizers.Nadam)
    assert build_optimizer(OptimConfig(reduce_on_plateau=True), 100).learning_rate.numpy() == pytest.approx(
        1e-3
    )


def test_global_clipnorm_clips_all_gradients_together():
    # gradients (3, 4) and (0, 5): global norm sqrt(50), both scaled by 1 / sqrt(50) (reference 000's
    # clip); per-variable clipnorm would give (0.6, 0.8) and (0, 1). SGD lr 1, first step = -gradient.
    optimizer = build_optimizer(
        OptimConfig(optimizer="sgd", schedule="constant", learning_rate=1.0, ema=0.0, global_clipnorm=1.0), 10
    )
    assert optimizer.global_clipnorm == 1.0 and optimizer.clipnorm is None
    a, b = keras.Variable([0.0, 0.0]), keras.Variable([0.0, 0.0])
    optimizer.apply_gradients([(np.array([3.0, 4.0], "float32"), a), (np.array([0.0, 5.0], "float32"), b)])
    np.testing.assert_allclose(a.numpy(), -np.array([3.0, 4.0]) / math.sqrt(50), rtol=1e-5)
    np.testing.assert_allclose(b.numpy(), -np.array([0.0, 5.0]) / math.sqrt(50), rtol=1e-5)
    with pytest.raises(ConfigError, match=r"optim\.clipnorm=1\.0 and optim\.global_clipnorm=1\.0"):
        ExperimentConfig().override({"optim.clipnorm": 1.0, "optim.global_clipnorm": 1.0})


def test_fit_with_ema_leaves_the_ema_of_the_weights_in_the_model():
    """What the trainer evaluates and exports after `fit` is the EMA (callbacks.build's swap included)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    momentum = 0.9
    model.compile(
        optimizer=build_optimizer(OptimConfig(schedule="constant", learning_rate=0.05, ema=momentum), 10),
        loss="mse",
    )
    steps: list[list[np.ndarray]] = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: steps.append([w.numpy().copy() for w in model.weights])
    )
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)).astype("float32"), rng.standard_normal((32, 2)).astype("float32")
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        verbose=0,
        callbacks=[record, keras.callbacks.SwapEMAWeights(swap_on_epoch=True)],
    )
    assert len(steps) == 12
    ema = [w.copy() for w in steps[0]]  # Keras starts the average at the first step's weights
    for weights in steps[1:]:
        ema = [momentum * e + (1 - momentum) * w for e, w in zip(ema, weights, strict=True)]
    for got, want, last in zip(model.weights, ema, steps[-1], strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(want, last, atol=1e-4)  # the EMA is not just the last weights
