"""Time the synthetic-corpus generator (default: 260 speakers x 20 utterances).

Usage: python benchmarks/synth_speed.py [--speakers N] [--utterances M] [--workers W]
Generates into a temporary folder (deleted afterwards) and prints wall-clock
seconds, milliseconds per utterance and the CPU seconds of this process and
all its children (workers and espeak-ng), so that a run on a machine shared
with other jobs still tells what an idle machine needs: about CPU seconds /
workers. Target: the default 260 x 20 in about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

from speaker_tf.data.audio import default_workers  # noqa: E402
from speaker_tf.data.synth import generate_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=260)
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    def cpu() -> float:
        return sum(
            u.ru_utime + u.ru_stime
            for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
        )

    cpu0 = cpu()
    with tempfile.TemporaryDirectory(prefix="synth_speed_") as tmp:
        start = time.perf_counter()
        generate_corpus(
            Path(tmp) / "corpus",
            args.speakers,
            args.utterances,
            seed=0,
            workers=args.workers,
            report_baseline=False,
            verbose=False,
        )
        seconds = time.perf_counter() - start
        cpu_seconds = cpu() - cpu0
    n = args.speakers * args.utterances
    workers = default_workers(args.workers)
    emit(
        "synth",
        speakers=args.speakers,
        utterances=args.utterances,
        workers=workers,
        seconds=round(seconds, 1),
        ms_per_utterance=round(1000 * seconds / n, 2),
        cpu_seconds=round(cpu_seconds, 1),
        cpu_ms_per_utterance=round(1000 * cpu_seconds / n, 2),
        idle_estimate_seconds=round(cpu_seconds / workers),
        load=round(os.getloadavg()[0], 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
