"""The experiment configuration and its type-checked overrides.

An experiment is `ExperimentConfig` plus dotted-key overrides such as
`{"model.fc.embedding_norm": "l2"}`. Unknown keys and values of the wrong
type raise `ConfigError` naming the key, the value and close matches; values
outside the range their field declares (speaker_tf/config/ranges.py) raise it
after all overrides are applied, so `--dry-run` refuses them too.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from speaker_tf.config.data import DataConfig
from speaker_tf.config.loss import LossConfig
from speaker_tf.config.model import ModelConfig
from speaker_tf.config.ranges import check_consistency, check_ranges
from speaker_tf.config.train import OptimConfig, TrainConfig
from speaker_tf.errors import ConfigError


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = "default"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def override(self, overrides: Mapping[str, Any]) -> "ExperimentConfig":
        """A copy with dotted keys replaced, each value type-checked."""
        return apply_overrides(self, overrides)

    def validate(self) -> "ExperimentConfig":
        """Raise ConfigError for a value outside its declared range; return self."""
        check_ranges(self)
        check_consistency(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ExperimentConfig":
        """Rebuild from `to_dict()` output (e.g. a run's saved config.json)."""
        return apply_overrides(cls(), _upgraded(flatten(values)))


def _upgraded(flat: dict[str, Any]) -> dict[str, Any]:
    """Older saved configs: model.e_block.se was one placement ("none", "after_res", ...)."""
    se = flat.get("model.e_block.se")
    if isinstance(se, str):
        flat["model.e_block.se"] = [] if se == "none" else [se]
    return flat


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def all_keys(config: Any, prefix: str = "") -> list[str]:
    """Every dotted leaf key of a (nested) dataclass instance."""
    keys: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            keys.extend(all_keys(value, f"{prefix}{f.name}."))
        else:
            keys.append(f"{prefix}{f.name}")
    return keys


def get_value(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def apply_overrides(config: ExperimentConfig, overrides: Mapping[str, Any]) -> ExperimentConfig:
    known = all_keys(config)
    for key, value in overrides.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown config key {key!r}{hint}")
        config = _replace(config, key.split("."), value, key)
    return config.validate()


def _replace(node: Any, parts: list[str], value: Any, key: str) -> Any:
    name = parts[0]
    if len(parts) > 1:
        return dataclasses.replace(node, **{name: _replace(getattr(node, name), parts[1:], value, key)})
    hint = typing.get_type_hints(type(node))[name]
    try:
        return dataclasses.replace(node, **{name: coerce(value, hint, key)})
    except ValueError as error:  # a section's own validation
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{key}={value!r}: {error}") from None


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Check `value` against a type hint; allow int -> float and list -> tuple."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0])
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r} must be a list")
        return tuple(coerce(v, args[0], key) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool):
        if type(value) is not hint:
            raise ConfigError(f"{key}={value!r} must be of type {hint.__name__}, not {type(value).__name__}")
        return value
    raise ConfigError(f"{key}: unsupported config type {hint!r}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a command-line `key=value`; the value is JSON, else a bare string."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key=value")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def diff(a: ExperimentConfig, b: ExperimentConfig) -> dict[str, tuple[Any, Any]]:
    """Keys whose values differ, with (a, b) values."""
    return {
        key: (get_value(a, key), get_value(b, key))
        for key in all_keys(a)
        if key != "name" and get_value(a, key) != get_value(b, key)
    }
