"""Optimisation and run configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from speaker_tf.config.ranges import PROBABILITY, ranged


@dataclass(frozen=True)
class OptimConfig:
    optimizer: Literal["nadam", "adam", "sgd"] = "nadam"
    learning_rate: float = ranged(1e-3, gt=0)  # ## 05 tried 4e-4
    # sgdr_exp: cosine decay with restarts times exponential decay (original);
    # warmup_cosine: linear warm-up then cosine to a floor (reference 000).
    schedule: Literal["sgdr_exp", "warmup_cosine", "step", "exponential", "constant"] = "sgdr_exp"
    first_decay_steps: int = ranged(1000, ge=1)  # SGDR
    t_mul: float = ranged(2.0, gt=0)
    m_mul: float = ranged(1.0, gt=0)
    alpha: float = ranged(0.1, **PROBABILITY)  # SGDR floor as a fraction of the peak
    decay_steps: int = ranged(1000, ge=1)  # exponential / step
    decay_rate: float = ranged(0.999, gt=0, le=1)  # ## 42 tried 0.99 every 250 steps
    warmup_fraction: float = ranged(0.1, ge=0, lt=1)  # warmup_cosine
    floor: float = ranged(0.1, **PROBABILITY)  # warmup_cosine floor as a fraction of the peak
    reduce_on_plateau: bool = False
    clipnorm: float = ranged(0.0, ge=0)  # per-variable norm clip; 0 = off
    # clip the global norm of all gradients together (Keras global_clipnorm); 0 = off.
    # Reference 000's "gradient clip of 1.0" (PyTorch clip_grad_norm_) is this one.
    global_clipnorm: float = ranged(0.0, ge=0)
    ema: float = ranged(0.999, ge=0, lt=1)  # weight EMA; 0 = off. The original served EMA weights.


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = ranged(63, ge=1)  # 63 x 1000 = 63k steps, the end of an SGDR cycle
    steps_per_epoch: int = ranged(1000, ge=1)
    eval_every_epochs: int = ranged(1, ge=1)
    validation_trials: int = ranged(2000, ge=2)  # ## 12 / 23: validation size
    checkpoint_every_steps: int = ranged(1000, ge=1)
    early_stopping_patience: int = ranged(0, ge=0)  # 0 = off
    seed: int = ranged(0, ge=0)
    mixed_precision: bool = False
    warm_start: str = ""  # "retrained from ## N": experiment or run dir
    profile: Literal["none", "cpu", "quick", "full"] = "none"
    # Data parallelism (speaker_tf/training/distribute.py): default (one device), mirrored (all
    # local GPUs, or `devices`; "/cpu:1" splits the CPU into logical devices), multiworker
    # (MultiWorkerMirroredStrategy from TF_CONFIG), tpu. The P x K batch is the global batch.
    strategy: Literal["default", "mirrored", "multiworker", "tpu"] = "default"
    devices: tuple[str, ...] = ()
    # tf.data service dispatcher, grpc://HOST:PORT (`--data-service`): the training input pipeline
    # runs on its workers (speaker_tf/data/service.py: DYNAMIC sharding, whole P x K batches per
    # step, no exact resume, not with data.records); "" = the pipeline runs in this process.
    data_service: str = ""
