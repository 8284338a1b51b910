"""Warm start ("retrained from ## N"): copy weights by layer name from another run."""

from __future__ import annotations

from pathlib import Path

import keras

from speaker_tf.training.run_dir import RunDir, latest_run


def warm_start(encoder: keras.Model, source: str, out: str | Path) -> int:
    """Load `source` (a run directory, or an experiment's latest run under `out`) into `encoder`.

    Layers are matched by name; a layer whose weight shapes differ is left as
    initialised and reported. Returns the number of layers copied.
    """
    run = RunDir(Path(source)) if Path(source).is_dir() else latest_run(out, source)
    donor = keras.saving.load_model(run.encoder_file, compile=False)
    donors = {layer.name: layer for layer in donor.layers}
    copied, mismatched = 0, []
    for layer in encoder.layers:
        other = donors.get(layer.name)
        if other is None or not layer.weights:
            continue
        if [w.shape for w in layer.weights] != [w.shape for w in other.weights]:
            mismatched.append(layer.name)
            continue
        layer.set_weights(other.get_weights())
        copied += 1
    print(
        f"warm start from {run.path}: {copied} layers copied"
        + (f", shapes differ for {mismatched}" if mismatched else "")
    )
    return copied
