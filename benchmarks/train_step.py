"""Training speed of `fit`: examples/s and peak memory per model, XLA, replicas, precision.

    python benchmarks/train_step.py [--models logmel raw] [--xla 0 1] [--replicas 1 2]
                                    [--mixed 0] [--repeats 2] [--steps 12]

Each configuration runs `model.fit` on the training model the trainer builds
(same losses: the P x K batch, semi-hard triplet + cross-entropy of the profile)
in a fresh process, on an in-memory batch (the input pipeline is measured by
pipeline_throughput.py). Models: `raw` = the note-faithful exp_122 (`full`
profile, 18 x 4 crops of 1 s), `logmel` = the default run's model (`cpu`
profile, 16 x 4). Two replicas: two GPUs when there are, else two logical CPU
devices splitting the same cores (`MirroredStrategy`). Configurations run
interleaved, `--repeats` times, so a shared machine's load hits all alike; one
JSON line per run (examples/s median over windows of 3 steps after `--warmup`
steps; peak resident memory of the process, and its increase during `fit`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, rates  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one(model_name: str, replicas: int, xla: bool, mixed: bool, warmup: int, steps: int) -> dict:
    """Measure one configuration in this (fresh) process."""
    from speaker_tf.training import distribute

    devices: tuple[str, ...] = ()
    strategy_name = "default"
    if replicas > 1:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        strategy_name = "mirrored"
        devices = tuple(f"/gpu:{i}" for i in range(replicas)) if len(gpus) >= replicas else ()
        devices = devices or tuple(f"/cpu:{i}" for i in range(replicas))
    strategy = distribute.build_strategy(strategy_name, devices)
    import keras
    import numpy as np
    import tensorflow as tf

    from speaker_tf.config.experiment import load_experiment
    from speaker_tf.models import build_classifier, build_encoder
    from speaker_tf.training.objectives import needs_head, training_model
    from speaker_tf.training.profiles import apply
    from speaker_tf.training.schedules import build_optimizer

    config = apply("full" if model_name == "raw" else "cpu", load_experiment("exp_122").config)
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    p, k = config.data.speakers_per_batch, config.data.utterances_per_speaker
    crop = int(round(config.data.crop_seconds * config.data.sample_rate))
    speakers = 200
    keras.utils.set_random_seed(0)
    with strategy.scope():
        encoder = build_encoder(config.model, crop)
        classifier = build_classifier(encoder, config.model, speakers) if needs_head(config) else encoder
        model, compile_args = training_model(classifier, config, speakers)
        distribute.sync_batch_norm(model, replicas)
        compile_args = distribute.gather_batch_losses(compile_args, distribute.batch_level_terms(config))
        model.compile(optimizer=build_optimizer(config.optim, 10_000), jit_compile=xla, **compile_args)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (p * k, crop)).astype("float32")
    y = np.repeat(rng.choice(speakers, p, replace=False), k).astype("int32")
    names = list(model.output_names)

    def make(index: int, count: int):
        rows = slice(index * p * k // count, (index + 1) * p * k // count)
        targets = {name: y[rows] for name in names}
        return tf.data.Dataset.from_tensors(({"waveform": x[rows]}, targets)).repeat()

    dataset = distribute.distribute_dataset(strategy, make, p * k)
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    before = _rss_mb()
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[Clock()], verbose=0)
    measured = times[warmup - 1 :]
    window = 3
    starts = range(0, len(measured) - window, window)
    per_window = [window * p * k / (measured[i + window] - measured[i]) for i in starts]
    return {
        "model": model_name,
        "replicas": replicas,
        "devices": list(devices) or ["default"],
        "xla": xla,
        "mixed_precision": mixed,
        "batch": p * k,
        "crop_samples": crop,
        "examples_per_second": rates(per_window),
        "first_steps_seconds": round(times[warmup - 1] - started, 1),  # tracing / compilation included
        "peak_rss_mb": round(_rss_mb(), 1),
        "fit_rss_increase_mb": round(_rss_mb() - before, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["logmel", "raw"], choices=["logmel", "raw"])
    parser.add_argument("--xla", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--replicas", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--mixed", nargs="+", type=int, default=[0], help="1: mixed_float16 (GPU)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: JSON of one configuration
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print("RESULT " + json.dumps(one(**spec, warmup=args.warmup, steps=args.steps)), flush=True)
        return 0
    grid = list(itertools.product(args.models, args.replicas, args.xla, args.mixed))
    for _ in range(args.repeats):
        for model_name, replicas, xla, mixed in grid:
            spec = {"model_name": model_name, "replicas": replicas, "xla": bool(xla), "mixed": bool(mixed)}
            cmd = [sys.executable, __file__, "--one", json.dumps(spec)]
            cmd += ["--warmup", str(args.warmup), "--steps", str(args.steps)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            if proc.returncode or not lines:
                emit("train_step", **spec, error=proc.stderr.strip().splitlines()[-1:])
                continue
            emit("train_step", **json.loads(lines[-1][len("RESULT ") :]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
