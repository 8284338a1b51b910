"""Shared by the benchmark scripts: machine description and one JSON line per measurement."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def machine() -> dict:
    """CPU model, cores usable by this process, TensorFlow version, accelerator kind."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = "cpu"
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"{len(gpus)} x {details.get('device_name', 'GPU')}"
    return {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "tensorflow": tf.__version__,
        "device": device,
        "host": platform.node(),
    }


def emit(benchmark: str, **measurement) -> dict:
    """Print one JSON line: the benchmark's name, the measurement, the machine."""
    record = {"benchmark": benchmark, **measurement, "machine": machine()}
    print(json.dumps(record), flush=True)
    return record


def rates(values: list[float]) -> dict:
    """median / min / max of a list of rates (a shared machine is noisy)."""
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "windows": len(values),
    }
