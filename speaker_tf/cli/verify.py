"""`speaker-tf verify`: are two recordings the same speaker, by an export's threshold."""

from __future__ import annotations

import argparse

from speaker_tf.export.model_path import MODEL_HELP

HELP = "score two audio files with an exported model and decide same / different speaker"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", metavar="MODEL", help=MODEL_HELP)
    parser.add_argument("audio_a", metavar="A", help="first audio file")
    parser.add_argument("audio_b", metavar="B", help="second audio file")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.export.tools import ExportedModel

    model = ExportedModel(args.export)
    score, accept = model.verify_files(args.audio_a, args.audio_b)
    print(f"score     {score:.6f}")
    print(f"threshold {model.threshold:.6f}  (EER threshold of {model.label}, ", end="")
    print(f"validation EER {model.val_eer:.2%})")
    print(f"decision  {'same speaker' if accept else 'different speakers'}")
    return 0
