"""`speaker-tf export`: a training run directory -> a TF Serving SavedModel version."""

from __future__ import annotations

import argparse

HELP = "export a training run's encoder as a TF Serving SavedModel (EXPORT_BASE/NAME/VERSION)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="training run directory (encoder.keras, metrics.json)"
    )
    parser.add_argument(
        "--out", required=True, metavar="EXPORT_BASE", help="folder holding one subfolder per model"
    )
    parser.add_argument(
        "--name", required=True, help="model name (the folder TF Serving's base_path points to)"
    )
    parser.add_argument(
        "--version", type=int, default=None, help="version number (default: latest + 1, from 1)"
    )
    parser.add_argument(
        "--window-seconds", type=float, default=2.0, help="window for long audio (default 2.0)"
    )
    parser.add_argument("--hop-seconds", type=float, default=1.0, help="hop between windows (default 1.0)")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.export.saved_model import export_encoder, load_run_encoder

    encoder, meta = load_run_encoder(args.run_dir)
    path = export_encoder(
        encoder,
        args.out,
        args.name,
        args.version,
        threshold=meta["threshold"],
        val_eer=meta["val_eer"],
        min_samples=meta["min_samples"],
        window_seconds=args.window_seconds,
        hop_seconds=args.hop_seconds,
        sample_rate=meta.get("sample_rate", 16000),
        extra_metadata={"run_dir": meta["run_dir"]},
    )
    print(path)
    print(
        f"threshold {meta['threshold']:.6f}  val_eer {meta['val_eer']:.4%}  min_samples {meta['min_samples']}"
    )
    return 0
