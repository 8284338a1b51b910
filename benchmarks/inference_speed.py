"""Parameter count and CPU inference time of the speaker encoders.

For each configuration: parameters, the shortest accepted input, and the
median wall time (after warm-up) of one clip and of a batch, for 1 s and
2 s of 16 kHz audio, through a `tf.function` of the encoder (what an export
serves). Configurations:

  raw       the default ModelConfig with fc.embedding_norm="l2" (exp_122:
            raw waveform, ten stride-2 EBlocks, +Dense, Swish, SE)
  exp_122   the model of `python -m experiments.exp_122` as recorded there
            (the same network with embedding_dim 128)
  logmel2d  log-mel front end (64 bands, 10 ms hop), the same blocks in 2-D,
            5 EBlocks
  strided   one strided conv (64 filters, 251 taps, hop 80 = 200 frames/s),
            then 4 EBlocks
  sinc      as strided with the SincNet filterbank
  conformer / transformer   the ConformerConfig / TransformerConfig defaults

    python benchmarks/inference_speed.py [--runs 7] [--batch 32] [--configs raw exp_122 logmel2d sinc ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

from speaker_tf.config.model import EBlockConfig, FCBlockConfig, FrontendConfig, ModelConfig  # noqa: E402

SAMPLE_RATE = 16000


def configurations() -> dict[str, ModelConfig]:
    base = ModelConfig(fc=FCBlockConfig(embedding_norm="l2"))
    configs = {"raw": base}
    try:
        from speaker_tf.config.experiment import load_experiment

        configs["exp_122"] = load_experiment("exp_122").config.model
    except Exception as exc:  # the experiments package is optional here
        print(f"exp_122 unavailable: {exc}")
    return configs | {
        "logmel2d": dataclasses.replace(
            base,
            frontend=FrontendConfig(kind="logmel"),
            e_block=EBlockConfig(channels=(32, 32, 48, 48, 64), res_blocks=(0, 1, 1, 2, 2)),
        ),
        "strided": dataclasses.replace(
            base,
            frontend=FrontendConfig(kind="strided", filters=64, kernel=251, stride=80),
            e_block=EBlockConfig(channels=(48, 64, 64, 64), res_blocks=(2, 3, 3, 3)),
        ),
        "sinc": dataclasses.replace(
            base,
            frontend=FrontendConfig(kind="sinc", filters=64, kernel=251, stride=80),
            e_block=EBlockConfig(channels=(48, 64, 64, 64), res_blocks=(2, 3, 3, 3)),
        ),
        "conformer": dataclasses.replace(base, network="conformer", frontend=FrontendConfig(kind="logmel")),
        "transformer": dataclasses.replace(
            base, network="transformer", frontend=FrontendConfig(kind="logmel")
        ),
    }


def time_call(fn, x, runs: int, warmup: int) -> float:
    """Median seconds of fn(x) over `runs` calls after `warmup` calls."""
    for _ in range(warmup):
        fn(x).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=["raw", "exp_122", "logmel2d", "strided"])
    parser.add_argument("--seconds", nargs="+", type=float, default=[1.0, 2.0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from speaker_tf.models import build_encoder, min_samples

    rng = np.random.default_rng(0)
    available = configurations()
    for name in args.configs:
        if name not in available:
            parser.error(f"--configs {name!r} is not one of {', '.join(available)}")
        config = available[name]
        encoder = build_encoder(config, int(SAMPLE_RATE * min(args.seconds)))
        infer = tf.function(lambda x, encoder=encoder: encoder(x, training=False))
        for seconds in args.seconds:
            samples = int(SAMPLE_RATE * seconds)
            single = rng.uniform(-1, 1, (1, samples)).astype("float32")
            batch = rng.uniform(-1, 1, (args.batch, samples)).astype("float32")
            t1 = time_call(infer, single, args.runs, args.warmup) * 1000
            tb = time_call(infer, batch, args.runs, args.warmup) * 1000
            emit(
                "inference",
                config=name,
                params=encoder.count_params(),
                min_samples=min_samples(config),
                seconds=seconds,
                runs=args.runs,
                one_clip_ms=round(t1, 2),
                batch=args.batch,
                batch_ms=round(tb, 2),
                ms_per_clip=round(tb / args.batch, 3),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
