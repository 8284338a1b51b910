"""Optimisation and run configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OptimConfig:
    optimizer: Literal["nadam", "adam", "sgd"] = "nadam"
    learning_rate: float = 1e-3  # ## 05 tried 4e-4
    # sgdr_exp: cosine decay with restarts times exponential decay (original);
    # warmup_cosine: linear warm-up then cosine to a floor (reference 000).
    schedule: Literal["sgdr_exp", "warmup_cosine", "step", "exponential", "constant"] = "sgdr_exp"
    first_decay_steps: int = 1000  # SGDR
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.1  # SGDR floor as a fraction of the peak
    decay_steps: int = 1000  # exponential / step
    decay_rate: float = 0.999  # ## 42 tried 0.99 every 250 steps
    warmup_fraction: float = 0.1  # warmup_cosine
    floor: float = 0.1  # warmup_cosine floor as a fraction of the peak
    reduce_on_plateau: bool = False
    clipnorm: float = 0.0  # 0 = no clipping (000 used 1.0)
    ema: float = 0.999  # weight EMA; 0 = off. The original served EMA weights.


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 63  # 63 x 1000 = 63k steps, the end of an SGDR cycle
    steps_per_epoch: int = 1000
    eval_every_epochs: int = 1
    validation_trials: int = 2000  # ## 12 / 23: validation size
    checkpoint_every_steps: int = 1000
    early_stopping_patience: int = 0  # 0 = off
    seed: int = 0
    mixed_precision: bool = False
    warm_start: str = ""  # "retrained from ## N": experiment or run dir
    profile: Literal["none", "cpu", "quick", "full"] = "none"
    # Data parallelism (speaker_tf/training/distribute.py): default (one device), mirrored (all
    # local GPUs, or `devices`; "/cpu:1" splits the CPU into logical devices), multiworker
    # (MultiWorkerMirroredStrategy from TF_CONFIG), tpu. The P x K batch is the global batch.
    strategy: Literal["default", "mirrored", "multiworker", "tpu"] = "default"
    devices: tuple[str, ...] = ()
