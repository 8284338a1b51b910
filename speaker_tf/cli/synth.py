"""`speaker-tf synth`: generate the embedded synthetic corpus (espeak-ng voices)."""

from __future__ import annotations

import argparse

HELP = "generate the synthetic espeak-ng corpus (VoxCeleb layout, train/val/test + trials)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        required=True,
        help="output folder (refused if non-empty, unless it holds this corpus: then verified, "
        "missing files regenerated; an interrupted run is continued)",
    )
    parser.add_argument(
        "--speakers",
        type=int,
        default=None,
        help="total speakers, split 200/20/40 in proportion (default 260; --heldout: 60)",
    )
    parser.add_argument(
        "--utterances", type=int, default=None, help="utterances per speaker (default 20; --heldout: 10)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (same arguments -> identical files)")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the MFCC baseline EER at the end")
    parser.add_argument(
        "--heldout",
        action="store_true",
        help="a test-only corpus (DIR/test, trials.txt, trials_same_channel.txt) of languages, "
        "a Klatt source and channel kinds that no training corpus contains",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.synth import generate_corpus, generate_heldout_corpus

    make = generate_heldout_corpus if args.heldout else generate_corpus
    defaults = (60, 10) if args.heldout else (260, 20)
    make(
        args.out,
        speakers=defaults[0] if args.speakers is None else args.speakers,
        utterances=defaults[1] if args.utterances is None else args.utterances,
        seed=args.seed,
        workers=args.workers,
        report_baseline=not args.no_baseline,
        verbose=not args.quiet,
    )
    return 0
