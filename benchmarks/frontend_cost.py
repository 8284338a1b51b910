"""Cost of the log-mel front-end options (issue 9), in milliseconds per training batch.

Two measurements per configuration, both in training mode (augmentation on)
inside a `tf.function`, wall time over `--runs` after a warm-up, as the
minimum (least disturbed by other jobs on a shared machine) and the median:

  front end   waveform [batch, samples] -> features alone (no weights)
  train step  forward + backward of the whole encoder of
              `python -m experiments.exp_122` under the cpu profile (log-mel
              40 bands, 4 EBlocks) with a dummy loss, i.e. what one step adds

on a batch of the cpu profile (16 speakers x 4 utterances, 1 s crops).
Configurations: off (the cpu profile front end: log-mel + CMN), each option
alone, and two with every compatible option on (tilt needs mean_norm off).

    python benchmarks/frontend_cost.py [--runs 10] [--batch 64] [--seconds 1.0] [--no-model]
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

from speaker_tf.config.model import FrontendConfig  # noqa: E402

SAMPLE_RATE = 16000
MASKS = dict(time_masks=2, time_mask_width=10, freq_masks=2, freq_mask_width=4)
ALL_CMVN = dict(vtlp_warp=0.1, variance_norm=True, cepstra=20, lifter=22.0, **MASKS)


def configurations(base: FrontendConfig) -> dict[str, FrontendConfig]:
    options = {
        "off (log-mel 40 + CMN)": {},
        "band 100-4000 Hz": dict(min_freq=100.0, max_freq=4000.0),
        "CMVN": dict(variance_norm=True),
        "VTLP 0.1": dict(vtlp_warp=0.1),
        "tilt 3 dB (no CMN)": dict(mean_norm=False, tilt_db=3.0),
        "SpecAugment 2+2": MASKS,
        "cepstra 20 + lifter": dict(cepstra=20, lifter=22.0),
        "all: VTLP+CMVN+SpecAug+cepstra": ALL_CMVN,
        "all: VTLP+tilt+SpecAug+cepstra": dict(ALL_CMVN, variance_norm=False, mean_norm=False, tilt_db=3.0),
    }
    return {name: dataclasses.replace(base, **changes) for name, changes in options.items()}


def timed_ms(fn, x, runs: int) -> tuple[float, float]:
    """(minimum, median) milliseconds of `fn(x)` over `runs` calls after two warm-up calls."""
    fn(x)  # trace + warm-up
    fn(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = fn(x)
        _ = [o.numpy() for o in (out if isinstance(out, (list, tuple)) else [out])]
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times), 1000.0 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--no-model", action="store_true", help="front end only, skip the train step")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from speaker_tf.config.experiment import load_experiment
    from speaker_tf.models import build_encoder
    from speaker_tf.models.frontends import apply_log_mel
    from speaker_tf.training import profiles

    model_config = profiles.apply("cpu", load_experiment("exp_122").config).model
    samples = int(round(args.seconds * SAMPLE_RATE))
    x = tf.constant(np.random.default_rng(0).standard_normal((args.batch, samples)).astype("float32"))
    print(f"batch {args.batch} x {args.seconds:g} s, {args.runs} runs, training mode, ms per batch")
    print(f"{'front end':34s} {'front end min/med':>16s} {'train step min/med':>18s}")
    for name, frontend in configurations(model_config.frontend).items():
        keras.utils.set_random_seed(0)
        waveform = keras.Input((None,), name="waveform")
        features = keras.Model(waveform, apply_log_mel(waveform, frontend))
        fe_ms = timed_ms(tf.function(lambda v, m=features: m(v, training=True)), x, args.runs)
        step = ""
        if not args.no_model:
            encoder = build_encoder(dataclasses.replace(model_config, frontend=frontend), samples)

            @tf.function
            def train_step(v, encoder=encoder):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(encoder(v, training=True)))
                return tape.gradient(loss, encoder.trainable_weights)

            step = "{:9.0f} / {:6.0f}".format(*timed_ms(train_step, x, args.runs))
        print(f"{name:34s} {fe_ms[0]:8.1f} / {fe_ms[1]:5.1f} {step}", flush=True)


if __name__ == "__main__":
    main()
