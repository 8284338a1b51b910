"""`speaker-tf synth`: generate the embedded synthetic corpus (espeak-ng voices)."""

from __future__ import annotations

import argparse

HELP = "generate the synthetic espeak-ng corpus (VoxCeleb layout, train/val/test + trials)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, help="output folder (refused if non-empty, unless same arguments)"
    )
    parser.add_argument(
        "--speakers", type=int, default=260, help="total speakers, split 200/20/40 in proportion"
    )
    parser.add_argument("--utterances", type=int, default=20, help="utterances per speaker")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same arguments -> identical files)")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the MFCC baseline EER at the end")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.synth import generate_corpus

    generate_corpus(
        args.out,
        speakers=args.speakers,
        utterances=args.utterances,
        seed=args.seed,
        workers=args.workers,
        report_baseline=not args.no_baseline,
    )
    return 0
