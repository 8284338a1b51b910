"""Allowed ranges of config values, declared next to each field.

A field declares its range with `ranged(default, ge=..., gt=..., le=..., lt=...)`
(a `dataclasses.field` whose metadata holds a `Range`); `check_ranges` walks a
config and raises `ConfigError` naming the dotted key, the value and the range,
e.g. "optim.learning_rate=-1.0 is out of range: it must be > 0". Numbers in a
tuple field are checked one by one. `check_consistency` holds the few rules that
span sections (a metric loss needs two utterances per speaker in a batch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from speaker_tf.errors import ConfigError

RANGE_KEY = "range"


@dataclass(frozen=True)
class Range:
    """low <(=) value <(=) high; None = unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value > low, else value >= low
    high_open: bool = False  # True: value < high, else value <= high

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{_number(self.low)}, {_number(self.high)}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return "any number"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def ranged(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field with `default` whose values must lie in the given bounds."""
    if ge is not None and gt is not None or le is not None and lt is not None:
        raise ValueError("give at most one lower (ge / gt) and one upper (le / lt) bound")
    bounds = Range(
        low=gt if gt is not None else ge,
        high=lt if lt is not None else le,
        low_open=gt is not None,
        high_open=lt is not None,
    )
    return field(default=default, metadata={RANGE_KEY: bounds})


PROBABILITY = {"ge": 0.0, "le": 1.0}  # ranged(0.5, **PROBABILITY)


def check_ranges(config: Any, prefix: str = "") -> None:
    """Raise ConfigError for the first field of a (nested) dataclass outside its declared range."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            check_ranges(value, key + ".")
            continue
        bounds = f.metadata.get(RANGE_KEY)
        if bounds is None:
            continue
        values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        for item in values:
            shown = f"{key}={value!r}" if item is value else f"{key}={value!r} (entry {item!r})"
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ConfigError(f"{shown} must be a number {bounds.describe()}")
            if not bounds.contains(item):
                raise ConfigError(f"{shown} is out of range: it must be {bounds.describe()}")


def check_consistency(config: Any) -> None:
    """Rules across fields: a metric loss needs pairs; one gradient clipping mode."""
    loss, data = config.loss, config.data
    pair_losses = [
        f"loss.{name}={value!r}"
        for name, value, active in (
            ("triplet", loss.triplet, loss.triplet != "none"),
            ("supcon_weight", loss.supcon_weight, loss.supcon_weight > 0),
        )
        if active
    ]
    if pair_losses and data.utterances_per_speaker < 2:
        raise ConfigError(
            f"data.utterances_per_speaker={data.utterances_per_speaker!r} is out of range: it must be >= 2 "
            f"because {' and '.join(pair_losses)} needs two utterances of a speaker in each batch"
        )
    optim = config.optim
    if optim.clipnorm > 0 and optim.global_clipnorm > 0:
        raise ConfigError(
            f"optim.clipnorm={optim.clipnorm!r} and optim.global_clipnorm={optim.global_clipnorm!r}: "
            "set at most one of them (Keras takes one clipping mode)"
        )
