"""Compute profiles: budgets applied on top of a note-faithful experiment.

The notes trained a raw-waveform encoder for 63k+ steps on VoxCeleb2 on a GPU.
On a 2-core CPU that model runs at about 8 examples/s per core, so the default
run on the embedded corpus applies the `cpu` profile: the same blocks on a
log-mel front end (2-D, 100 frames/s), fewer and narrower EBlocks, short crops,
16 x 4 batches and a warm-up + cosine schedule sized to the budget. It also
changes what an experiment compares in three ways: it adds a cross-entropy term
(weight 0.5) where the experiment has no softmax term, turns the weight EMA off
(a 0.999 EMA averages over the last ~1,000 steps, the whole budget), and shrinks
embeddings wider than 512 to 256. It keeps the activation, EBlock layout, SE
placement, normalisation, the experiment's own loss terms and the embedding
normalisation. Every change is printed at start (with its reason) and recorded
in the run's config.json. `full` runs the notes' own schedule; `quick` is the
under-a-minute run the tests use.
"""

from __future__ import annotations

from typing import Any

from speaker_tf.config.base import ExperimentConfig, diff
from speaker_tf.errors import ConfigError

PROFILES = ("none", "cpu", "quick", "full")
CPU_MAX_EMBEDDING = 512  # wider embeddings shrink to 256 under the cpu profile
# Why the cpu profile changes what an experiment compares; printed by `announce`.
REASONS = {
    "loss.cross_entropy_weight": "an added softmax term: it speeds up learning within the budget",
    "optim.ema": "weight EMA off: a 0.999 EMA averages the last ~1,000 steps, the whole budget",
    "model.embedding_dim": "a smaller embedding for the budget and the corpus' 200 training speakers",
}


def choose(name: str, config: ExperimentConfig) -> str:
    """`auto`: cpu on the embedded corpus, full on a user's corpus."""
    if name == "auto":
        return "cpu" if config.data.root is None else "full"
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; expected auto, {', '.join(PROFILES)}")
    return name


def _shrunk_blocks(config: ExperimentConfig, blocks: int, width: float) -> dict[str, Any]:
    """Keep the last `blocks` EBlocks (their ResBlock counts capped at 1), channels scaled by `width`."""
    e_block = config.model.e_block
    channels = [max(8, int(round(c * width))) for c in e_block.channels[-blocks:]]
    res_blocks = [min(r, 1) for r in e_block.res_blocks[-blocks:]]
    return {
        "model.e_block.channels": channels,
        "model.e_block.res_blocks": res_blocks,
        "model.in_block.channels": max(8, int(round(config.model.in_block.channels * width))),
    }


def _cpu(config: ExperimentConfig) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "data.crop_seconds": 1.0,
        "data.eval_seconds": 2.0,
        "data.speakers_per_batch": 16,
        "data.utterances_per_speaker": 4,
        "optim.schedule": "warmup_cosine",
        "optim.learning_rate": 2e-3,
        "optim.warmup_fraction": 0.05,
        "optim.floor": 0.02,
        "optim.ema": 0.0,  # a 0.999 EMA averages the last ~1,000 steps: this whole budget
        "train.epochs": 10,
        "train.steps_per_epoch": 100,
        "train.validation_trials": 400,
        "train.checkpoint_every_steps": 100,
    }
    if config.model.network in ("conformer", "transformer"):
        # attention stacks diverged at 2e-3 here; reference 000's best run warmed up to 1e-3
        overrides.update({"optim.learning_rate": 1e-3, "optim.warmup_fraction": 0.1})
    if config.loss.aam_margin_warmup_steps:
        overrides["loss.aam_margin_warmup_steps"] = 300  # ramp the margin over the first 30 % of steps
    if config.model.network in ("seresnet", "densenet"):
        overrides.update(
            {"model.frontend.kind": "logmel", "model.frontend.n_mels": 40, "model.fc.width": 256}
        )
        if config.model.network == "seresnet":
            overrides.update(_shrunk_blocks(config, blocks=4, width=1.0))
    if config.model.embedding_dim > CPU_MAX_EMBEDDING:
        # e.g. exp_conformer_aam's 2048 (reference 004): 256 suits 200 training speakers and the budget
        overrides["model.embedding_dim"] = 256
    if config.model.head.kind != "aam" and config.loss.cross_entropy_weight == 0:
        overrides["loss.cross_entropy_weight"] = 0.5  # the softmax term speeds up learning within the budget
    return overrides


def _quick(config: ExperimentConfig) -> dict[str, Any]:
    overrides = _cpu(config)
    overrides.update(
        {
            "data.synth_speakers": 40,  # 31 / 3 / 6 speakers
            "data.synth_utterances": 8,
            "data.speakers_per_batch": 8,
            "data.utterances_per_speaker": 3,
            "model.embedding_dim": 32,
            "model.fc.width": 64,
            "optim.learning_rate": 5e-3,
            "train.epochs": 4,
            "train.steps_per_epoch": 50,
            "train.validation_trials": 100,
            "train.checkpoint_every_steps": 50,
        }
    )
    if config.model.network == "seresnet":
        overrides.update(_shrunk_blocks(config, blocks=3, width=0.5))
    return overrides


def overrides_for(name: str, config: ExperimentConfig) -> dict[str, Any]:
    if name in ("none", "full"):
        return {}
    return {"cpu": _cpu, "quick": _quick}[name](config)


def apply(name: str, config: ExperimentConfig) -> ExperimentConfig:
    """The config with profile `name` applied; `train.profile` records it."""
    return config.override({**overrides_for(name, config), "train.profile": name})


def announce(config: ExperimentConfig) -> None:
    """Say at start what the profile changed, so nobody mistakes it for the note's settings."""
    name = config.train.profile
    if name in ("none", "full"):
        print(f"profile {name}: the experiment's own settings")
        return
    from speaker_tf.config.experiment import load_experiment

    changed = diff(load_experiment(config.name).config, config)
    print(f"profile {name}: applied on top of {config.name} (use --profile full for the notes' schedule):")
    for key, (before, after) in changed.items():
        reason = f"  ({REASONS[key]})" if key in REASONS else ""
        print(f"  {key}: {before!r} -> {after!r}{reason}")
