"""`speaker-tf baseline`: EER of the MFCC-statistics cosine baseline on a trial list."""

from __future__ import annotations

import argparse

HELP = "score a trial list with the classical MFCC mean/std + cosine baseline and print the EER"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", required=True, help="trial list: 'label enroll test' per line")
    parser.add_argument("--root", required=True, help="folder the trial paths are relative to")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.baseline import baseline_scores
    from speaker_tf.evaluation.metrics import compute_eer

    scores, labels = baseline_scores(args.trials, args.root, args.workers)
    eer, threshold = compute_eer(scores, labels)
    print(
        f"MFCC baseline: EER {100 * eer:.2f} % (threshold {threshold:.4f}) on {len(labels)} trials "
        f"({int(labels.sum())} target) of {args.trials}"
    )
    return 0
