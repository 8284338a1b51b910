"""Typed configuration: defaults live in one place per section."""

from speaker_tf.config.base import ExperimentConfig, all_keys, diff, get_value, parse_assignment
from speaker_tf.config.data import AugmentConfig, DataConfig, RobustConfig
from speaker_tf.config.loss import LossConfig
from speaker_tf.config.model import ModelConfig
from speaker_tf.config.train import OptimConfig, TrainConfig

__all__ = [
    "AugmentConfig",
    "DataConfig",
    "ExperimentConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "RobustConfig",
    "TrainConfig",
    "all_keys",
    "diff",
    "get_value",
    "parse_assignment",
]
