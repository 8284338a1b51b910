"""`speaker-tf embed`: embeddings of audio files through an export, saved as .npz."""

from __future__ import annotations

import argparse

from speaker_tf.export.model_path import MODEL_HELP

HELP = "embed audio files or folders with an exported model; writes {path: embedding} to an .npz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", metavar="MODEL", help=MODEL_HELP)
    parser.add_argument(
        "audio", metavar="AUDIO", nargs="+", help="audio files or folders (searched recursively)"
    )
    parser.add_argument("--out", default="embeddings.npz", help="output .npz (default embeddings.npz)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.add_argument("--batch-size", type=int, default=8, help="files per model call (default 8)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from speaker_tf.export.tools import (
        ExportedModel,
        OutputExistsError,
        Progress,
        collect_audio_files,
        save_embeddings,
    )

    out = Path(args.out)
    if out.exists() and not args.force:  # fail before the slow part
        raise OutputExistsError(f"{str(out)!r} exists; pass --force to overwrite it")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    files = collect_audio_files(args.audio)
    model = ExportedModel(args.export)
    bar = Progress(len(files), "embedding", enabled=not args.quiet)
    embeddings = model.embed_files(files, args.batch_size, progress=bar.update)
    save_embeddings(out, {str(f): e for f, e in zip(files, embeddings, strict=True)}, force=args.force)
    print(f"{len(files)} embeddings of size {model.embedding_dim} ({model.label}) -> {out}")
    return 0
