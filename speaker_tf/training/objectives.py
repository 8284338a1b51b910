"""The training model: one named output per loss term, so each term is logged on its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from speaker_tf import losses
from speaker_tf.config.base import ExperimentConfig
from speaker_tf.errors import ConfigError


@dataclass(frozen=True)
class Term:
    source: str  # "embedding" or "logits"
    loss: Any
    weight: float
    metrics: tuple = ()


def loss_terms(config: ExperimentConfig) -> dict[str, Term]:
    """Active loss terms by name; center loss is added inside the model (it keeps state)."""
    loss, head = config.loss, config.model.head
    terms: dict[str, Term] = {}
    if loss.triplet != "none" and loss.triplet_weight > 0:
        terms["triplet"] = Term(
            "embedding", _triplet_loss(config), loss.triplet_weight, _triplet_metrics(config)
        )
    if loss.supcon_weight > 0:
        terms["supcon"] = Term(
            "embedding",
            losses.SupervisedContrastiveLoss(temperature=loss.supcon_temperature),
            loss.supcon_weight,
        )
    if loss.cross_entropy_weight > 0:
        if head.kind == "aam":
            raise ConfigError("loss.cross_entropy_weight > 0 needs a softmax head, but model.head.kind='aam'")
        terms["cross_entropy"] = Term(
            "logits",
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            loss.cross_entropy_weight,
            (keras.metrics.SparseCategoricalAccuracy(name="accuracy"),),
        )
    if loss.aam_weight > 0:
        if head.kind != "aam":
            raise ConfigError(f"loss.aam_weight > 0 needs model.head.kind='aam', got {head.kind!r}")
        terms["aam"] = Term(
            "logits",
            losses.AdditiveAngularMarginLoss(head.aam_scale, head.aam_margin, loss.aam_margin_warmup_steps),
            loss.aam_weight,
        )
    if not terms and loss.center_weight <= 0:
        raise ConfigError(
            "no loss term is active: set a triplet, cross-entropy, aam, supcon or center weight"
        )
    return terms


def _triplet_loss(config: ExperimentConfig):
    loss = config.loss
    if loss.triplet == "semihard":
        return losses.TripletSemiHardLoss(margin=loss.triplet_margin, distance_metric=loss.distance)
    if loss.triplet == "hard":
        return losses.TripletHardLoss(
            margin=loss.triplet_margin, soft=loss.triplet_soft, distance_metric=loss.distance
        )
    return losses.TripletBatchAllLoss(margin=loss.triplet_margin, distance_metric=loss.distance)


def _triplet_metrics(config: ExperimentConfig) -> tuple:
    margin = config.loss.triplet_margin if config.loss.triplet_margin > 0 else 0.5
    return (
        losses.TripletPositiveFraction(
            margin=margin, distance_metric=config.loss.distance, name="positive_fraction"
        ),
    )


def needs_head(config: ExperimentConfig) -> bool:
    return config.loss.cross_entropy_weight > 0 or config.loss.aam_weight > 0


def training_model(
    classifier: keras.Model, config: ExperimentConfig, num_speakers: int
) -> tuple[keras.Model, dict]:
    """Wrap `classifier` (outputs a dict with "embedding" [and "logits"]) with one output per term.

    Returns the model and the per-output losses / weights / metrics for `compile`.
    With center loss the model also takes the labels as an input named "label".
    """
    terms = loss_terms(config)
    waveform = keras.Input(shape=(None,), name="waveform")
    inputs: dict[str, keras.KerasTensor] = {"waveform": waveform}
    outputs = classifier(waveform)
    if not isinstance(outputs, dict):
        outputs = {"embedding": outputs}
    embedding = outputs["embedding"]
    if config.loss.center_weight > 0:
        inputs["label"] = keras.Input(shape=(), dtype="int32", name="label")
        embedding = losses.CenterLossLayer(
            num_speakers, decay=config.loss.center_decay, weight=config.loss.center_weight, name="center_loss"
        )(embedding, inputs["label"])
    sources = {"embedding": embedding, "logits": outputs.get("logits")}
    named = {name: keras.layers.Identity(name=name)(sources[term.source]) for name, term in terms.items()}
    if not named:  # center loss alone: expose the embedding so fit has an output
        named["embedding"] = keras.layers.Identity(name="embedding")(embedding)
    model = keras.Model(inputs, named, name="trainer")
    compile_args = {
        "loss": {name: term.loss for name, term in terms.items()} or None,
        "loss_weights": {name: term.weight for name, term in terms.items()} or None,
        "metrics": {name: list(term.metrics) for name, term in terms.items() if term.metrics} or None,
    }
    return model, compile_args
