"""Export size, load time and inference speed of an exported encoder on this machine's CPU.

Builds the encoder of experiment exp_122 (raw waveform SE-ResNet, the notes' flagship) and a
log-mel variant, exports each with ``speaker_tf.export.export_encoder``, then in a fresh Python
process that imports only TensorFlow (as a serving client would) measures:

* export time and size on disk (SavedModel + warm-up requests),
* ``tf.saved_model.load`` time,
* embeddings per second and real-time factor (compute time / audio time; < 1 is faster than
  real time) through ``serving_default`` for 2 s and 8 s inputs at batch 1 and 8, and through
  ``embed_wav`` for an 8 s WAV (the windowed mean: 7 windows of 2 s, hop 1 s),

each the median of ``--runs`` timed calls after two warm-up calls. Weights are random: speed
does not depend on them.

    python benchmarks/export_speed.py [--runs 5] [--variants raw,logmel] [--threads 0]

The log-mel variant keeps six of the ten stride-2 EBlocks: with all ten, the seresnet on
100 frames/s needs 163,680 samples (10.2 s) of input, longer than the 2 s evaluation window.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

MEASURE = textwrap.dedent(
    """
    import io, json, statistics, sys, time, wave
    import numpy as np
    import tensorflow as tf

    path, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    assert not any(m.startswith("speaker_tf") for m in sys.modules)
    t0 = time.perf_counter()
    model = tf.saved_model.load(path)
    load_s = time.perf_counter() - t0
    sr = int(model.signatures["metadata"](unused=tf.zeros([1]))["sample_rate"])
    rng = np.random.default_rng(0)

    def timed(fn, **inputs):
        for _ in range(2):
            fn(**inputs)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = fn(**inputs)
            next(iter(out.values())).numpy()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    results = {"load_s": load_s, "rows": []}
    default = model.signatures["serving_default"]
    for seconds in (2, 8):
        for batch in (1, 8):
            x = tf.constant((0.1 * rng.standard_normal((batch, seconds * sr))).astype(np.float32))
            t = timed(default, waveform=x)
            results["rows"].append(["serving_default", seconds, batch, t])
    pcm = (3000 * rng.standard_normal(8 * sr)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr); w.writeframes(pcm.tobytes())
    t = timed(model.signatures["embed_wav"], wav=tf.constant([buf.getvalue()]))
    results["rows"].append(["embed_wav", 8, 1, t])
    print(json.dumps(results))
    """
)


def model_configs(variants: list[str]):
    from experiments.exp_122 import EXPERIMENT

    base = EXPERIMENT.config.model
    configs = {}
    for variant in variants:
        if variant == "raw":
            configs["raw (exp_122)"] = base
        elif variant == "logmel":
            blocks = 6
            e_block = dataclasses.replace(
                base.e_block,
                channels=base.e_block.channels[:blocks],
                res_blocks=base.e_block.res_blocks[:blocks],
            )
            frontend = dataclasses.replace(base.frontend, kind="logmel")
            configs["logmel (6 EBlocks)"] = dataclasses.replace(base, frontend=frontend, e_block=e_block)
        else:
            raise SystemExit(f"unknown variant {variant!r} (raw, logmel)")
    return configs


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed calls per measurement (median)")
    parser.add_argument("--variants", default="raw,logmel", help="comma-separated: raw, logmel")
    parser.add_argument("--threads", type=int, default=0, help="TF intra/inter-op threads (0 = TF default)")
    args = parser.parse_args()

    from speaker_tf.export.saved_model import export_encoder
    from speaker_tf.models.encoder import build_encoder

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in model_configs(args.variants.split(",")).items():
            encoder = build_encoder(config)
            t = time.perf_counter()
            path = export_encoder(
                encoder,
                tmp,
                label.split()[0],
                threshold=0.5,
                val_eer=0.0,
                min_samples=encoder.min_samples,
            )
            export_s = time.perf_counter() - t
            proc = subprocess.run(
                [sys.executable, "-c", MEASURE, str(path), str(args.runs), str(args.threads)],
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
                return 1
            measured = json.loads(proc.stdout.strip().splitlines()[-1])
            size = dir_size(path)
            rows.append((label, encoder.count_params(), encoder.min_samples, export_s, size, measured))

    for label, params, min_samples, export_s, size, m in rows:
        for signature, seconds, batch, t in m["rows"]:
            emit(
                "export",
                model=label,
                params=params,
                min_samples=min_samples,
                export_seconds=round(export_s, 1),
                megabytes=round(size / 1e6, 2),
                load_seconds=round(m["load_s"], 2),
                signature=signature,
                seconds=seconds,
                batch=batch,
                ms_per_call=round(1e3 * t, 2),
                embeddings_per_second=round(batch / t, 1),
                real_time_factor=round(t / (seconds * batch), 5),
                runs=args.runs,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
