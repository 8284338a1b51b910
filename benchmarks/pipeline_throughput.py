"""Throughput of the training input pipeline (examples/s), DataPP off and on.

    python benchmarks/pipeline_throughput.py [--data DIR] [--cache] [--train-step] [--robust]

Without --data it writes a few hundred 2-8 s 16 kHz int16 WAV files into a
temporary folder (40 speakers x 8 files by default). With --data, every *.wav
under DIR is used, its speaker being its parent folder's name. Batches are
P x K = 18 x 4 = 72 crops of 1.0 s (the DataConfig defaults). Each figure is
the median over --windows measured windows of --steps batches, after --warmup
batches; min and max are printed too, since a shared machine is noisy.

--robust adds two rows for the recipes' augmentation (`data.robust`): its
defaults (speed 0.9 / 1.0 / 1.1, every stage with its default probability,
200 simulated rooms cached under $SPEAKER_TF_DATA or ./data), and every
stage at probability 1 (the worst case), both with DataPP on.

--train-step also times one training step (forward + backward + Nadam update)
of the encoder of --experiment (default exp_122) under --profile (full: the
note's raw-waveform model; cpu: the default run's) on a batch of the same
shape, and prints the ratio
pipeline examples/s / step examples/s (the issue asks for >= 5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_corpus(root: Path, speakers: int, files: int, sample_rate: int, seed: int) -> tuple[list, list]:
    """Speech-like stand-ins: a few decaying harmonics plus noise, 2-8 s each."""
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for spk in range(speakers):
        f0 = rng.uniform(90, 250)
        for utt in range(files):
            n = int(rng.uniform(2.0, 8.0) * sample_rate)
            t = np.arange(n) / sample_rate
            x = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) / h for h in range(1, 6))
            x = x * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t)) + 0.05 * rng.standard_normal(n)
            x = (x / np.max(np.abs(x)) * rng.uniform(3000, 30000)).astype(np.int16)
            path = root / f"spk{spk:03d}" / f"utt{utt:02d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), x, sample_rate, subtype="PCM_16")
            paths.append(str(path))
            labels.append(spk)
    return paths, labels


def read_folder(root: Path) -> tuple[list, list]:
    paths = sorted(str(p) for p in root.rglob("*.wav"))
    if not paths:
        raise SystemExit(f"no *.wav files under {root}")
    names = sorted({Path(p).parent.name for p in paths})
    index = {n: i for i, n in enumerate(names)}
    return paths, [index[Path(p).parent.name] for p in paths]


def measure(iterator, batch: int, warmup: int, windows: int, steps: int) -> list[float]:
    """examples/s of each window of `steps` batches, after `warmup` batches."""
    for _ in range(warmup):
        next(iterator)
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            x, _ = next(iterator)
        _ = x.numpy()[0, 0]  # make sure the last batch is materialised
        rates.append(steps * batch / (time.perf_counter() - start))
    return rates


def time_train_step(
    experiment: str, profile: str, batch: int, samples: int, warmup: int, windows: int, steps: int
) -> list[float]:
    """examples/s of one training step of the experiment's encoder under `profile`."""
    import keras
    import tensorflow as tf

    from speaker_tf.config.experiment import load_experiment
    from speaker_tf.models import build_encoder
    from speaker_tf.training.trainer import resolve_config

    model_config = resolve_config(load_experiment(experiment), profile=profile).model
    print(f"train step model: {experiment} with profile {profile}")
    model = build_encoder(model_config)
    optimizer = keras.optimizers.Nadam(1e-3)
    x = tf.random.uniform([batch, samples], -1.0, 1.0)

    @tf.function(jit_compile=False)
    def step(inputs: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            emb = model(inputs, training=True)
            loss = tf.reduce_mean(tf.square(emb))  # stand-in loss: the cost is the network
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    rates = []
    for _ in range(warmup):
        step(x).numpy()
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(x)
        loss.numpy()
        rates.append(steps * batch / (time.perf_counter() - start))
    return rates


def summary(rates: list[float]) -> str:
    return f"median {statistics.median(rates):8.1f} examples/s  (min {min(rates):.1f}, max {max(rates):.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="folder of <speaker>/*.wav (default: generate)")
    parser.add_argument("--speakers", type=int, default=40)
    parser.add_argument("--files", type=int, default=8, help="files per generated speaker")
    parser.add_argument("--warmup", type=int, default=5, help="batches before measuring")
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="batches per window")
    parser.add_argument("--cache", action="store_true", help="DataConfig.cache = True")
    parser.add_argument("--train-step", action="store_true", help="also time the encoder's train step")
    parser.add_argument("--experiment", default="exp_122")
    parser.add_argument(
        "--profile",
        default="full",
        help="profile of the timed model: full (the note's model) or cpu (default run)",
    )
    parser.add_argument("--robust", action="store_true", help="also time data.robust (defaults; all on)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import tensorflow as tf

    from speaker_tf.config.data import AugmentConfig, DataConfig, RobustConfig
    from speaker_tf.data.pipeline import train_dataset

    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            paths, labels = read_folder(args.data)
        else:
            paths, labels = write_corpus(Path(tmp), args.speakers, args.files, 16000, args.seed)
        print(
            f"tensorflow {tf.__version__}; {len(paths)} files, {len(set(labels))} speakers; "
            f"CPU threads visible: {len(os.sched_getaffinity(0))}"
        )
        results = {}
        rows = [("DataPP off", False, RobustConfig()), ("DataPP on ", True, RobustConfig())]
        if args.robust:
            every = {
                k: 1.0 for k in ("p_reverb", "p_noise", "p_band", "p_eq", "p_tilt", "p_telephone", "p_codec")
            }
            rows += [
                ("DataPP + robust defaults", True, RobustConfig(enabled=True)),
                ("DataPP + robust all p=1", True, RobustConfig(enabled=True, **every)),
            ]
        for name, enabled, robust in rows:
            config = DataConfig(cache=args.cache, augment=AugmentConfig(enabled=enabled), robust=robust)
            batch = config.speakers_per_batch * config.utterances_per_speaker
            ds = train_dataset(paths, labels, config, seed=args.seed)
            rates = measure(iter(ds), batch, args.warmup, args.windows, args.steps)
            results[name] = statistics.median(rates)
            crop = ds.element_spec[0].shape[1]
            print(f"pipeline {name} (batch {batch} x {crop}, cache={args.cache}): {summary(rates)}")
        if args.train_step:
            step_rates = time_train_step(
                args.experiment, args.profile, batch, crop, 2, max(3, args.windows // 2), 3
            )
            step = statistics.median(step_rates)
            print(f"train step: {summary(step_rates)}")
            for name, rate in results.items():
                print(f"ratio pipeline {name} / train step: {rate / step:.1f}x (issue: >= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
