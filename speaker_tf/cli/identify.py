"""`speaker-tf identify`: rank the enrolled speakers for a recording."""

from __future__ import annotations

import argparse

from speaker_tf.export.model_path import MODEL_HELP

HELP = "rank enrolled speakers by cosine similarity to an audio file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", metavar="MODEL", help=MODEL_HELP)
    parser.add_argument("audio", metavar="AUDIO", help="audio file to identify")
    parser.add_argument("--top", type=int, default=5, help="how many speakers to list (default 5)")
    parser.add_argument(
        "--store", default=None, help="SQLite store (default: EXPORT_BASE/NAME/enrollments.sqlite)"
    )


def run(args: argparse.Namespace) -> int:
    from speaker_tf.export.enrollment import EnrollmentStore, default_store_path
    from speaker_tf.export.tools import ExportedModel

    if args.top < 1:
        raise ValueError(f"--top must be >= 1, got {args.top}")
    model = ExportedModel(args.export)
    store_path = args.store or default_store_path(model.path)
    with EnrollmentStore(store_path, model.model_id, model.label, model.embedding_dim, create=False) as store:
        embedding = model.embed_files([args.audio])[0]
        ranking = store.rank(embedding)
    print(f"threshold {model.threshold:.6f} ({model.label})")
    for rank, (name, score) in enumerate(ranking[: args.top], start=1):
        verdict = "match" if score >= model.threshold else "below threshold"
        print(f"{rank:>3}  {score:.6f}  {name}  ({verdict})")
    return 0
