"""Learning-rate schedules of the notes and reference documents."""

from __future__ import annotations

import math

import keras
from keras import ops

from speaker_tf.config.train import OptimConfig


@keras.saving.register_keras_serializable(package="speaker_tf")
class SGDRExponential(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay with warm restarts (Loshchilov & Hutter 2017) times exponential decay.

    The original code multiplied the two: lr(t) = SGDR(t) * decay_rate ** (t / decay_steps).
    """

    def __init__(
        self,
        learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.1,
        decay_steps: int = 1000,
        decay_rate: float = 0.999,
    ):
        self.learning_rate = learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self._restarts = keras.optimizers.schedules.CosineDecayRestarts(
            learning_rate, first_decay_steps, t_mul=t_mul, m_mul=m_mul, alpha=alpha
        )

    def __call__(self, step):
        step = ops.cast(step, "float32")
        return self._restarts(step) * ops.power(self.decay_rate, step / self.decay_steps)

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
        }


@keras.saving.register_keras_serializable(package="speaker_tf")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `learning_rate`, then cosine decay to `floor * learning_rate` (reference 000)."""

    def __init__(self, learning_rate: float, total_steps: int, warmup_steps: int, floor: float = 0.1):
        if total_steps <= 0 or not 0 <= warmup_steps < total_steps:
            raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}")
        self.learning_rate = learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.floor = floor

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.learning_rate * (step + 1.0) / max(self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / (self.total_steps - self.warmup_steps), 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        decayed = self.learning_rate * (self.floor + (1.0 - self.floor) * cosine)
        return ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "floor": self.floor,
        }


def build_schedule(config: OptimConfig, total_steps: int):
    """The learning rate (a float or a schedule) that `config.schedule` names."""
    lr = config.learning_rate
    if config.schedule == "constant" or config.reduce_on_plateau:
        return lr  # ReduceLROnPlateau needs a plain float to change
    if config.schedule == "sgdr_exp":
        return SGDRExponential(
            lr,
            config.first_decay_steps,
            config.t_mul,
            config.m_mul,
            config.alpha,
            config.decay_steps,
            config.decay_rate,
        )
    if config.schedule == "warmup_cosine":
        return WarmupCosine(lr, total_steps, int(config.warmup_fraction * total_steps), config.floor)
    if config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(lr, config.decay_steps, config.decay_rate)
    # step: multiply by decay_rate every decay_steps steps
    return keras.optimizers.schedules.ExponentialDecay(
        lr, config.decay_steps, config.decay_rate, staircase=True
    )


def build_optimizer(config: OptimConfig, total_steps: int) -> keras.optimizers.Optimizer:
    """Nadam / Adam / SGD with the schedule, optional clipping (per variable or global) and weight EMA."""
    kwargs = {"learning_rate": build_schedule(config, total_steps)}
    if config.clipnorm > 0:
        kwargs["clipnorm"] = config.clipnorm
    if config.global_clipnorm > 0:
        kwargs["global_clipnorm"] = config.global_clipnorm
    if config.ema > 0:
        kwargs.update(use_ema=True, ema_momentum=config.ema)
    cls = {"nadam": keras.optimizers.Nadam, "adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    if config.optimizer == "sgd":
        kwargs["momentum"] = 0.9
    return cls[config.optimizer](**kwargs)
