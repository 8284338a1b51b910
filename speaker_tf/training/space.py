"""Search-space files of `speaker-tf sweep`: which config keys a study samples, and how.

A space file is YAML::

    experiment: exp_conformer_aam        # optional; must match the sweep's experiment
    fixed:                               # overrides applied to every trial
      train.epochs: 4
    params:                              # what each trial samples
      model.head.aam_margin: {type: float, low: 0.1, high: 0.5}
      optim.learning_rate: {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
      model.conformer.layers: {type: int, low: 2, high: 6}
      model.pooling: {type: categorical, choices: [stats, attentive_stats]}

Every key, bound and choice is checked against the experiment's config with the
same override machinery as `--set` before any trial starts. `1e-4` is read as a
number (YAML 1.1 would read it as a string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from speaker_tf.config.base import ExperimentConfig, get_value
from speaker_tf.errors import ConfigError

KINDS = ("float", "int", "categorical")
_FIELDS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
_SECTIONS = {"experiment", "fixed", "params"}


class SpaceError(ConfigError):
    """A search-space file names an unknown key or an impossible range."""


@dataclass(frozen=True)
class Param:
    """One sampled config key. Categorical list values travel through Optuna as JSON strings."""

    key: str
    kind: Literal["float", "int", "categorical"]
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """The value an `optuna.Trial` samples for this key (decoded for the config)."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.key, self.low, self.high, log=self.log, step=self.step or 1)
        return decode_choice(trial.suggest_categorical(self.key, [encode_choice(c) for c in self.choices]))

    def optuna_value(self, value: Any) -> Any:
        """A config value as Optuna stores it for this parameter (for enqueueing)."""
        if isinstance(value, tuple):
            value = list(value)
        return encode_choice(value) if self.kind == "categorical" else value

    def contains(self, value: Any) -> bool:
        if self.kind == "categorical":
            return self.optuna_value(value) in [encode_choice(c) for c in self.choices]
        return isinstance(value, (int, float)) and self.low <= value <= self.high


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    experiment: str | None = None

    def keys(self) -> list[str]:
        return [p.key for p in self.params]

    def sample(self, trial: Any) -> dict[str, Any]:
        return {p.key: p.suggest(trial) for p in self.params}

    def defaults(self, config: ExperimentConfig) -> dict[str, Any] | None:
        """The config's own values of the sampled keys as Optuna params, or None if one is outside."""
        values = {p.key: get_value(config, p.key) for p in self.params}
        if not all(p.contains(values[p.key]) for p in self.params):
            return None
        return {p.key: p.optuna_value(values[p.key]) for p in self.params}


def encode_choice(value: Any) -> Any:
    """Optuna stores None/bool/int/float/str choices; lists become JSON strings."""
    return json.dumps(value) if isinstance(value, (list, tuple)) else value


def decode_choice(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        return json.loads(value)
    return value


def load_space(path: str | Path, config: ExperimentConfig, experiment: str | None = None) -> SearchSpace:
    """Read and validate a space file against `config` (the sweep's base config)."""
    path = Path(path)
    if not path.is_file():
        raise SpaceError(f"search space file {str(path)!r} does not exist")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as error:
        raise SpaceError(f"{path}: not valid YAML: {error}") from None
    return parse_space(data, config, source=str(path), experiment=experiment)


def parse_space(
    data: Any, config: ExperimentConfig, source: str = "space", experiment: str | None = None
) -> SearchSpace:
    """Validate a space given as a mapping; every error names the file, the key and the value."""
    if not isinstance(data, Mapping):
        raise SpaceError(f"{source}: expected a mapping with 'params' (and optionally 'fixed')")
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise SpaceError(f"{source}: unknown section {unknown[0]!r}; expected {', '.join(sorted(_SECTIONS))}")
    named = data.get("experiment")
    if named is not None and experiment is not None and named != experiment:
        raise SpaceError(f"{source}: written for experiment {named!r}, not {experiment!r}")
    fixed = data.get("fixed") or {}
    if not isinstance(fixed, Mapping):
        raise SpaceError(f"{source}: 'fixed' must map config keys to values, got {fixed!r}")
    base = _override(config, dict(fixed), source, "fixed")
    raw_params = data.get("params")
    if not isinstance(raw_params, Mapping) or not raw_params:
        raise SpaceError(f"{source}: 'params' must map at least one config key to a range or choices")
    params = []
    for key, spec in raw_params.items():
        if key in fixed:
            raise SpaceError(f"{source}: {key!r} is both fixed and searched")
        params.append(_param(str(key), spec, base, source))
    return SearchSpace(tuple(params), dict(fixed), named)


def _param(key: str, spec: Any, base: ExperimentConfig, source: str) -> Param:
    where = f"{source}: params.{key}"
    if isinstance(spec, list):
        spec = {"type": "categorical", "choices": spec}
    if not isinstance(spec, Mapping):
        raise SpaceError(f"{where}: expected a mapping with 'type', got {spec!r}")
    kind = spec.get("type")
    if kind not in KINDS:
        raise SpaceError(f"{where}: type={kind!r} is not one of {', '.join(KINDS)}")
    extra = sorted(set(spec) - _FIELDS[kind])
    if extra:
        raise SpaceError(f"{where}: unknown field {extra[0]!r} for type {kind}")
    if kind == "categorical":
        return _categorical(key, spec, base, where)
    return _range(key, kind, spec, base, where)


def _categorical(key: str, spec: Mapping[str, Any], base: ExperimentConfig, where: str) -> Param:
    choices = spec.get("choices")
    if not isinstance(choices, list) or not choices:
        raise SpaceError(f"{where}: choices={choices!r} must be a non-empty list")
    encoded = [encode_choice(c) for c in choices]
    if len(set(map(repr, encoded))) != len(encoded):
        raise SpaceError(f"{where}: choices={choices!r} has duplicates")
    for choice in choices:
        if isinstance(choice, Mapping):
            raise SpaceError(f"{where}: choice {choice!r} is a mapping; use a value of {key}'s type")
        _override(base, {key: choice}, where, "choice")
    return Param(key, "categorical", choices=tuple(choices))


def _range(key: str, kind: str, spec: Mapping[str, Any], base: ExperimentConfig, where: str) -> Param:
    low, high, step = (_number(spec.get(name), name, kind, where) for name in ("low", "high", "step"))
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"{where}: log={log!r} must be true or false")
    if low is None or high is None:
        raise SpaceError(f"{where}: a {kind} range needs both low and high")
    if low >= high:
        raise SpaceError(
            f"{where}: low={low!r} must be below high={high!r} (a single value belongs in 'fixed')"
        )
    if log and low <= 0:
        raise SpaceError(f"{where}: log=true needs low > 0, got low={low!r}")
    if step is not None and (step <= 0 or log):
        raise SpaceError(f"{where}: step={step!r} must be > 0 and cannot be combined with log=true")
    # the bounds must be values the key accepts (its type and its section's own checks)
    for bound in (low, high):
        _override(base, {key: bound}, where, "bound")
    return Param(key, kind, low=low, high=high, log=log, step=step)


def _number(value: Any, name: str, kind: str, where: str) -> float | int | None:
    if value is None:
        return None
    if kind == "int":
        if type(value) is not int:
            raise SpaceError(f"{where}: {name}={value!r} must be an integer for an int range")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpaceError(f"{where}: {name}={value!r} must be a number")
    return float(value)


def _override(config: ExperimentConfig, values: dict[str, Any], where: str, what: str) -> ExperimentConfig:
    try:
        return config.override(values)
    except ConfigError as error:
        raise SpaceError(f"{where}: {what}: {error}") from None


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads 1e-4 / 5E+3 (no dot) as floats, as YAML 1.2 and JSON do."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)
