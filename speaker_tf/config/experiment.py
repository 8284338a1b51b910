"""Experiments: a named config derived from a parent by overriding only what a note changes."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from speaker_tf.config.base import ExperimentConfig
from speaker_tf.errors import ConfigError


@dataclass(frozen=True)
class Experiment:
    """One recipe: `config` is `parent.config` with `overrides` applied.

    `note` is the entry id in the notes (e.g. "122"), `change` the note's change
    in one line, `implied` maps override keys the note does not spell out to the
    reason they follow from it, and `warm_start` names the experiment whose
    trained weights initialise this one ("retrained from ## N").
    `profile_overrides` maps a compute profile ("cpu", "quick") to settings the
    recipe applies on top of that profile: a recipe designed for a CPU budget
    (exp_robust) keeps its own front end and schedule where the generic profile
    would replace them. Notes experiments leave it empty.
    """

    name: str
    change: str
    config: ExperimentConfig
    parent: str | None = None
    note: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    implied: Mapping[str, str] = field(default_factory=dict)
    warm_start: str | None = None
    profile_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def derive(
        self,
        name: str,
        change: str,
        overrides: Mapping[str, Any],
        *,
        note: str | None = None,
        implied: Mapping[str, str] | None = None,
        warm_start: str | None = None,
        profile_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "Experiment":
        for key in implied or {}:
            if key not in overrides:
                raise ConfigError(f"{name}: implied key {key!r} is not overridden")
        config = self.config.override(overrides)
        for profile, values in (profile_overrides or {}).items():
            config.override(values)  # checked now: a typo fails at import, not at the end of a profile run
            if profile not in ("cpu", "quick"):
                raise ConfigError(f"{name}: profile_overrides for unknown profile {profile!r}")
        return Experiment(
            name=name,
            change=change,
            config=_renamed(config, name),
            parent=self.name,
            note=note,
            overrides=MappingProxyType(dict(overrides)),
            implied=MappingProxyType(dict(implied or {})),
            warm_start=warm_start,
            profile_overrides=MappingProxyType({k: dict(v) for k, v in (profile_overrides or {}).items()}),
        )


def root(name: str, change: str, overrides: Mapping[str, Any], *, note: str | None = None) -> Experiment:
    """An experiment whose parent is the defaults of `ExperimentConfig`."""
    config = ExperimentConfig().override(overrides)
    return Experiment(
        name=name,
        change=change,
        config=_renamed(config, name),
        note=note,
        overrides=MappingProxyType(dict(overrides)),
    )


def _renamed(config: ExperimentConfig, name: str) -> ExperimentConfig:
    return config.override({"name": name})


def experiment_names() -> list[str]:
    """All modules `experiments.exp_*`, in note order."""
    import experiments

    names = [m.name for m in pkgutil.iter_modules(experiments.__path__) if m.name.startswith("exp_")]
    return sorted(names, key=_note_order)


def _note_order(name: str) -> tuple:
    parts = name.removeprefix("exp_").split("_")
    if parts[0].isdigit():
        return (0, *(int(p) if p.isdigit() else 0 for p in parts))
    return (1, name)


def load_experiment(name: str) -> Experiment:
    """The `EXPERIMENT` of module `experiments.<name>`; unknown names list close matches."""
    names = experiment_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `speaker-tf experiments`"
        raise ConfigError(f"unknown experiment {name!r}{hint}")
    return importlib.import_module(f"experiments.{name}").EXPERIMENT
