"""A run directory: runs/<experiment>/<timestamp>/ with config, logs, checkpoints, metrics, export."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speaker_tf.config.base import ExperimentConfig
from speaker_tf.errors import ConfigError

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
ENCODER_FILE = "encoder.keras"


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, out: str | Path, experiment: str, config: ExperimentConfig) -> "RunDir":
        """A new, timestamped run directory holding the resolved config."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(out) / experiment
        path = base / stamp
        suffix = 1
        while path.exists():  # two runs started in the same second
            path = base / f"{stamp}-{suffix}"
            suffix += 1
        path.mkdir(parents=True)
        (path / CONFIG_FILE).write_text(config.to_json() + "\n", encoding="utf-8")
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        """An existing run directory (for --resume, export and warm starts)."""
        run = cls(Path(path))
        if not (run.path / CONFIG_FILE).is_file():
            raise ConfigError(f"{str(run.path)!r} is not a run directory: it has no {CONFIG_FILE}")
        return run

    def config(self) -> ExperimentConfig:
        return ExperimentConfig.from_dict(json.loads((self.path / CONFIG_FILE).read_text(encoding="utf-8")))

    @property
    def log_dir(self) -> Path:
        return self.path / "logs"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def backup(self) -> Path:
        return self.path / "backup"

    @property
    def encoder_file(self) -> Path:
        return self.path / ENCODER_FILE

    @property
    def export_base(self) -> Path:
        return self.path / "export"

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        (self.path / METRICS_FILE).write_text(
            json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.path / METRICS_FILE).read_text(encoding="utf-8"))


def latest_run(out: str | Path, experiment: str) -> RunDir:
    """The newest finished run (one with an encoder) of `experiment` under `out`."""
    base = Path(out) / experiment
    finished = sorted(p for p in base.glob("*") if (p / ENCODER_FILE).is_file()) if base.is_dir() else []
    if not finished:
        raise ConfigError(
            f"no finished run of {experiment} under {str(base)!r}: train it first "
            f"(python -m experiments.{experiment})"
        )
    return RunDir(finished[-1])
