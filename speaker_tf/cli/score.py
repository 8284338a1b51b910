"""`speaker-tf score`: embed every trial utterance once, write a score file, print EER / minDCF."""

from __future__ import annotations

import argparse
import json

HELP = "Score a trial list with a trained encoder and write 'score label enroll test' lines."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, metavar="M", help="SavedModel export directory or .keras file"
    )
    parser.add_argument(
        "--trials",
        required=True,
        metavar="T",
        help="trial list: 'label enroll test' per line (VoxCeleb format)",
    )
    parser.add_argument("--root", required=True, metavar="R", help="folder the trial paths are relative to")
    parser.add_argument("--out", required=True, metavar="SCORES", help="score file to write")
    parser.add_argument(
        "--window",
        type=float,
        default=None,
        metavar="S",
        help="embed fixed windows of S seconds and average them (default: whole utterance)",
    )
    parser.add_argument(
        "--hop",
        type=float,
        default=None,
        metavar="S",
        help="window hop in seconds (default: half the window)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="windows per encoder call")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from speaker_tf.cli.metrics import format_report
    from speaker_tf.errors import CorpusError
    from speaker_tf.evaluation.embedder import load_embedder
    from speaker_tf.evaluation.metrics import verification_report
    from speaker_tf.evaluation.scoring import (
        cosine_scores,
        embed_utterances,
        read_trials,
        trial_utterances,
        write_score_file,
    )

    root = Path(args.root)
    if not root.is_dir():
        raise CorpusError(f"audio root {str(root)!r} is not a directory")
    trials = read_trials(args.trials)
    embed = load_embedder(args.model)
    embeddings = embed_utterances(
        embed,
        trial_utterances(trials),
        window_seconds=args.window,
        hop_seconds=args.hop,
        root=root,
        batch_size=args.batch_size,
    )
    scores = cosine_scores(embeddings, trials)
    write_score_file(args.out, scores, trials)
    try:
        report = verification_report(scores, [t.label for t in trials])
    except ValueError as exc:
        raise CorpusError(f"{args.trials}: {exc}") from None
    report["n_utterances"] = len(embeddings)
    report["score_file"] = str(args.out)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"wrote {len(trials)} scores to {args.out}")
        print(format_report(report))
    return 0
