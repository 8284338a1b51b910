"""Warm start ("retrained from ## N", or `--set train.warm_start=RUN`): copy weights by layer name."""

from __future__ import annotations

import json
from pathlib import Path

import keras

from speaker_tf.errors import ConfigError
from speaker_tf.training.run_dir import RunDir, latest_run

RECORD_FILE = "warm_start.json"  # in the new run's directory: what was copied from where


def source_run(source: str, out: str | Path) -> RunDir:
    """`source` as a finished run: a run directory, or an experiment's latest finished run under `out`."""
    if Path(source).is_dir():
        run = RunDir.open(source)
        if not run.encoder_file.is_file():
            raise ConfigError(
                f"warm start: run {source!r} has no {run.encoder_file.name} (it did not finish); "
                "resume it first with --resume"
            )
        return run
    if "/" in source or "\\" in source:
        raise ConfigError(
            f"warm start: {source!r} does not exist (expected a run directory or an experiment name)"
        )
    return latest_run(out, source)


def warm_start(encoder: keras.Model, source: str, out: str | Path, record: str | Path | None = None) -> int:
    """Load `source` (a run directory, or an experiment's latest run under `out`) into `encoder`.

    Layers are matched by name; a layer whose weight shapes differ, or that the
    source lacks, is left as initialised. Prints what was copied and, with
    `record` (a folder), writes it to `record/warm_start.json`. Returns the
    number of layers copied.
    """
    run = source_run(source, out)
    donor = keras.saving.load_model(run.encoder_file, compile=False)
    donors = {layer.name: layer for layer in donor.layers}
    copied, mismatched, missing = [], [], []
    for layer in encoder.layers:
        if not layer.weights:
            continue
        other = donors.get(layer.name)
        if other is None:
            missing.append(layer.name)
        elif [w.shape for w in layer.weights] != [w.shape for w in other.weights]:
            mismatched.append(layer.name)
        else:
            layer.set_weights(other.get_weights())
            copied.append(layer.name)
    if not copied:
        raise ConfigError(f"warm start from {str(run.path)!r}: no layer matches this model by name and shape")
    tensors = sum(len(encoder.get_layer(name).weights) for name in copied)
    print(
        f"warm start from {run.path}: copied {len(copied)} layers ({tensors} weight tensors): "
        + ", ".join(copied)
    )
    if mismatched or missing:
        print(f"  left as initialised: shapes differ {mismatched}, not in the source {missing}")
    if record is not None:
        what = {"source": str(run.path), "copied": copied, "shapes_differ": mismatched}
        what["not_in_source"] = missing
        (Path(record) / RECORD_FILE).write_text(json.dumps(what, indent=1) + "\n", encoding="utf-8")
    return len(copied)
