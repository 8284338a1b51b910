"""`speaker-tf enroll`: add a speaker's recordings to an enrolment store of an export."""

from __future__ import annotations

import argparse

from speaker_tf.export.model_path import MODEL_HELP

HELP = "enroll a speaker: store the mean embedding of audio files (SQLite store beside the export)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", metavar="MODEL", help=MODEL_HELP)
    parser.add_argument("audio", metavar="AUDIO", nargs="+", help="audio files or folders of this speaker")
    parser.add_argument("--speaker", required=True, help="speaker name (enrolling again adds to its mean)")
    parser.add_argument(
        "--store", default=None, help="SQLite store (default: EXPORT_BASE/NAME/enrollments.sqlite)"
    )


def run(args: argparse.Namespace) -> int:
    from speaker_tf.export.enrollment import EnrollmentStore, default_store_path
    from speaker_tf.export.tools import ExportedModel, collect_audio_files

    if not args.speaker.strip():
        raise ValueError("--speaker must not be empty")
    files = collect_audio_files(args.audio)
    model = ExportedModel(args.export)
    store_path = args.store or default_store_path(model.path)
    # Open the store first: a store of another export is refused before any embedding work.
    with EnrollmentStore(store_path, model.model_id, model.label, model.embedding_dim, create=True) as store:
        embeddings = model.embed_files(files)
        total = store.enroll(args.speaker, [str(f.resolve()) for f in files], embeddings)
    print(f"enrolled {args.speaker!r}: {len(files)} file(s), {total} utterance(s) in total -> {store_path}")
    return 0
