"""Speaker encoders: SE-ResNet (model1), DenseNet (model2), Conformer, Transformer."""

from speaker_tf.models.encoder import (
    SpeakerClassifier,
    SpeakerEncoder,
    build_classifier,
    build_encoder,
    model_config_from,
)
from speaker_tf.models.frontends import (
    LogCompression,
    LogMelSpectrogram,
    SincConv1D,
    SpecAugment,
    VtlpLogMelSpectrogram,
)
from speaker_tf.models.heads import CosineDense
from speaker_tf.models.layers import GLU, L2Normalize
from speaker_tf.models.pooling import AttentiveStatisticsPooling, StatisticsPooling
from speaker_tf.models.spectral import Cepstra, RandomSpectralTilt
from speaker_tf.models.transformer import (
    ClassToken,
    FirstToken,
    LearnedPositionalEmbedding,
    SinusoidalPositionalEncoding,
)
from speaker_tf.models.validation import min_samples, validate

__all__ = [
    "GLU",
    "AttentiveStatisticsPooling",
    "Cepstra",
    "ClassToken",
    "CosineDense",
    "FirstToken",
    "L2Normalize",
    "LearnedPositionalEmbedding",
    "LogCompression",
    "LogMelSpectrogram",
    "RandomSpectralTilt",
    "SincConv1D",
    "SinusoidalPositionalEncoding",
    "SpeakerClassifier",
    "SpeakerEncoder",
    "SpecAugment",
    "StatisticsPooling",
    "VtlpLogMelSpectrogram",
    "build_classifier",
    "build_encoder",
    "min_samples",
    "model_config_from",
    "validate",
]
