"""Cost of the log-mel front-end options (issue 9), in milliseconds per training batch.

Two measurements per configuration, both in training mode (augmentation on)
inside a `tf.function`, wall time over `--runs` round-robin calls after a
warm-up, as the minimum (least disturbed by other jobs on a shared machine)
and the median:

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402

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


def timed_ms(fns: dict[str, Callable[[Any], Any]], x: Any, runs: int) -> dict[str, tuple[float, float]]:
    """name -> (minimum, median) ms of `fn(x)` over `runs` calls after two warm-up calls.

    The calls go round-robin over the functions, so a busy spell on a shared
    machine slows every configuration alike.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn(x)  # trace + warm-up
        fn(x)
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            keras.tree.map_structure(lambda t: t.numpy(), fn(x))
            times[name].append(time.perf_counter() - start)
    return {name: (1000.0 * min(t), 1000.0 * statistics.median(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--no-model", action="store_true", help="front end only, skip the train step")
    args = parser.parse_args()

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
    configs = configurations(model_config.frontend)
    front_ends, steps = {}, {}
    for name, frontend in configs.items():
        keras.utils.set_random_seed(0)
        waveform = keras.Input((None,), name="waveform")
        features = keras.Model(waveform, apply_log_mel(waveform, frontend))
        front_ends[name] = tf.function(lambda v, m=features: m(v, training=True))
        if not args.no_model:
            encoder = build_encoder(dataclasses.replace(model_config, frontend=frontend), samples)

            @tf.function
            def train_step(v, encoder=encoder):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(encoder(v, training=True)))
                return tape.gradient(loss, encoder.trainable_weights)

            steps[name] = train_step
    front_ms = timed_ms(front_ends, x, args.runs)
    step_ms = timed_ms(steps, x, args.runs) if steps else {}
    print(f"{'front end':34s} {'front end min/med':>17s} {'train step min/med':>19s}")
    for name in configs:
        step = "{:10.0f} / {:6.0f}".format(*step_ms[name]) if name in step_ms else ""
        print(f"{name:34s} {front_ms[name][0]:8.1f} / {front_ms[name][1]:6.1f} {step}")


if __name__ == "__main__":
    main()
