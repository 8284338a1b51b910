"""Public builders: the speaker encoder and the classifier that trains it.

`SpeakerEncoder` maps a waveform [batch, samples] (any length >=
`min_samples(config)`) to an embedding [batch, embedding_dim];
`SpeakerClassifier` wraps an encoder with an OutBlock / AAM head and returns
{"embedding", "logits"} so training can give each output its own loss.
Exporting `classifier.encoder` never carries the head.

Both are functional `keras.Model` subclasses in the keras-hub Backbone /
Task style: `get_config()` holds the `ModelConfig` as a plain dict and
`from_config` rebuilds the graph from it, so a `.keras` file reloads into
the same class (with `.config`, `.crop_samples`, `.encoder`) and its
weights are matched layer by layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import keras

from speaker_tf.config.model import ModelConfig
from speaker_tf.models.conformer import apply_conformer
from speaker_tf.models.densenet import apply_densenet
from speaker_tf.models.heads import apply_out_block
from speaker_tf.models.seresnet import apply_seresnet
from speaker_tf.models.transformer import apply_transformer
from speaker_tf.models.validation import check_crop, min_samples, validate

NETWORKS: dict[str, Callable[[Any, ModelConfig], Any]] = {
    "seresnet": apply_seresnet,
    "densenet": apply_densenet,
    "conformer": apply_conformer,
    "transformer": apply_transformer,
}


def model_config_from(value: ModelConfig | Mapping[str, Any] | None) -> ModelConfig:
    """A ModelConfig from itself, from `dataclasses.asdict` output (e.g. a
    reloaded model's config, lists for tuples), or the defaults for None."""
    if value is None:
        return ModelConfig()
    if isinstance(value, ModelConfig):
        return value
    if isinstance(value, Mapping):
        from speaker_tf.config.base import ExperimentConfig

        return ExperimentConfig.from_dict({"model": dict(value)}).model
    raise TypeError(f"expected a ModelConfig or a dict, got {type(value).__name__}: {value!r}")


@keras.saving.register_keras_serializable(package="speaker_tf")
class SpeakerEncoder(keras.Model):
    """waveform [batch, samples] -> embedding [batch, embedding_dim].

    Input "waveform" float32 with shape (None,) (variable length); output
    layer "embedding". `crop_samples` (optional) is the training crop; it is
    checked against `min_samples(config)` and kept for reference.
    """

    def __init__(
        self,
        config: ModelConfig | Mapping[str, Any] | None = None,
        crop_samples: int | None = None,
        **kwargs: Any,
    ) -> None:
        model_config = model_config_from(config)
        validate(model_config)
        if crop_samples is not None:
            check_crop(model_config, crop_samples)
        waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
        features = NETWORKS[model_config.network](waveform, model_config)
        # float32 output also under mixed precision (losses, scoring, export)
        embedding = keras.layers.Identity(dtype="float32", name="embedding")(features)
        kwargs.setdefault("name", "speaker_encoder")
        super().__init__(inputs=waveform, outputs=embedding, **kwargs)
        self.config = model_config
        self.crop_samples = crop_samples

    @property
    def min_samples(self) -> int:
        return min_samples(self.config)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "config": dataclasses.asdict(self.config),
            "crop_samples": self.crop_samples,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SpeakerEncoder":
        return cls(**config)


@keras.saving.register_keras_serializable(package="speaker_tf")
class SpeakerClassifier(keras.Model):
    """waveform -> {"embedding": [B, D], "logits": [B, num_speakers]}.

    The head is `config.head` (the encoder's config when None); for
    kind="aam" the logits are cosines, to be scaled and margined by the loss.
    """

    def __init__(
        self,
        encoder: SpeakerEncoder,
        num_speakers: int,
        config: ModelConfig | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        model_config = model_config_from(config) if config is not None else encoder.config
        validate(model_config)
        waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
        embedding = encoder(waveform)
        logits = apply_out_block(
            embedding,
            model_config.head,
            num_speakers,
            activation=model_config.activation,
            weight_decay=model_config.weight_decay,
        )
        kwargs.setdefault("name", "speaker_classifier")
        super().__init__(inputs=waveform, outputs={"embedding": embedding, "logits": logits}, **kwargs)
        self.encoder = encoder
        self.num_speakers = num_speakers
        self.config = model_config

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_speakers": self.num_speakers,
            "config": dataclasses.asdict(self.config),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SpeakerClassifier":
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


def build_encoder(config: ModelConfig, crop_samples: int | None = None) -> SpeakerEncoder:
    """Validate `config` (ConfigError naming key and value) and build the encoder.

    `crop_samples`: the training crop, checked against `min_samples(config)`.
    """
    return SpeakerEncoder(config, crop_samples)


def build_classifier(encoder: SpeakerEncoder, config: ModelConfig, num_speakers: int) -> SpeakerClassifier:
    """The encoder plus the head of `config.head` for `num_speakers` classes."""
    return SpeakerClassifier(encoder, num_speakers, config)
