"""Throughput of the training input pipeline (examples/s), DataPP off and on.

    python benchmarks/pipeline_throughput.py [--data DIR] [--cache] [--train-step] [--robust]
                                             [--sources wav records] [--threads 1 2]

Without --data it writes a few hundred 2-8 s 16 kHz int16 WAV files into a
temporary folder (40 speakers x 8 files by default). With --data, every *.wav
under DIR is used, its speaker being its parent folder's name. Batches are
P x K = 18 x 4 = 72 crops of 1.0 s (the DataConfig defaults). Each figure is
the median over --windows measured windows of --steps batches, after --warmup
batches; min and max are printed too, since a shared machine is noisy. Sources:
the WAV files, and the same files packed into TFRecord shards (`speaker-tf pack`,
in the temporary folder) of each --shard-mb size (one packed copy per size,
measured in the same run); tf.data runs on 1 or 2 worker threads. One JSON line
per measurement (benchmarks/_common.py adds the machine).

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
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, rates  # noqa: E402


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
    parser.add_argument("--sources", nargs="+", default=["wav", "records"], choices=["wav", "records"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="tf.data worker threads")
    parser.add_argument(
        "--shard-mb", nargs="+", type=float, default=[128.0], help="shard sizes of the packed copies (MB)"
    )
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
    from speaker_tf.data.pack import pack_corpus
    from speaker_tf.data.pipeline import train_dataset

    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            paths, labels = read_folder(args.data)
        else:
            paths, labels = write_corpus(Path(tmp) / "wav", args.speakers, args.files, 16000, args.seed)
        # source name -> data.records ("" = the WAV files), then the shard count of each packed copy
        sources, shard_counts = {}, {}
        for source in args.sources:
            if source == "wav":
                sources["wav"] = ""
                continue
            corpus = args.data or Path(tmp) / "wav"
            for size in args.shard_mb:
                out = Path(tmp) / f"records-{size:g}mb"
                report = pack_corpus(corpus, out, shard_mb=size, workers=1, verbose=False)
                sources[f"records-{size:g}mb"] = str(out)
                shard_counts[f"records-{size:g}mb"] = report.shards
        corpus_info = {"files": len(paths), "speakers": len(set(labels)), "cache": args.cache}
        results = {}
        # augment: off, datapp; with --robust also datapp+robust (defaults) and datapp+robust_all (p = 1)
        variants = {"off": (False, RobustConfig()), "datapp": (True, RobustConfig())}
        if args.robust:
            every = {
                k: 1.0 for k in ("p_reverb", "p_noise", "p_band", "p_eq", "p_tilt", "p_telephone", "p_codec")
            }
            variants["datapp+robust"] = (True, RobustConfig(enabled=True))
            variants["datapp+robust_all"] = (True, RobustConfig(enabled=True, **every))
        # WAV and TFRecord side by side (alternating), so the machine's load hits both alike.
        for augment, threads, source in itertools.product(variants, args.threads, sources):
            datapp, robust = variants[augment]
            config = DataConfig(
                cache=args.cache,
                records=sources[source],
                augment=AugmentConfig(enabled=datapp),
                robust=robust,
            )
            batch = config.speakers_per_batch * config.utterances_per_speaker
            options = tf.data.Options()
            options.threading.private_threadpool_size = threads
            ds = train_dataset(paths, labels, config, seed=args.seed).with_options(options)
            measured = measure(iter(ds), batch, args.warmup, args.windows, args.steps)
            results[(source, augment, threads)] = statistics.median(measured)
            emit(
                "pipeline",
                source=source,
                augment=augment,
                threads=threads,
                batch=batch,
                crop_samples=int(ds.element_spec[0].shape[1]),
                examples_per_second=rates(measured),
                shards=shard_counts.get(source),
                **corpus_info,
            )
        if args.train_step:
            crop = int(ds.element_spec[0].shape[1])
            step_rates = time_train_step(
                args.experiment, args.profile, batch, crop, 2, max(3, args.windows // 2), 3
            )
            step = statistics.median(step_rates)
            emit(
                "pipeline_vs_train_step",
                experiment=args.experiment,
                profile=args.profile,
                train_step_examples_per_second=rates(step_rates),
                ratios={
                    f"{s}/augment={a}/threads={t}": round(r / step, 1) for (s, a, t), r in results.items()
                },
                target=">= 5",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
