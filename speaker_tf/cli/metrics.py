"""`speaker-tf metrics SCORES`: EER and minDCF from a score file alone."""

from __future__ import annotations

import argparse
import json

HELP = "Compute EER and minDCF from a score file ('score label enroll test' lines)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scores", metavar="SCORES", help="score file written by `speaker-tf score`")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")


def format_report(report: dict) -> str:
    """A small fixed-width table of a verification report (shared with `score`)."""
    rows = [
        (
            "trials",
            f"{report['n_target'] + report['n_nontarget']} "
            f"({report['n_target']} target, {report['n_nontarget']} non-target)",
        ),
        ("EER", f"{100 * report['eer']:.4f} %   (threshold {report['eer_threshold']:.6g})"),
        ("minDCF p=0.01", f"{report['min_dcf_p01']:.4f}   (threshold {report['min_dcf_p01_threshold']:.6g})"),
        ("minDCF p=0.05", f"{report['min_dcf_p05']:.4f}   (threshold {report['min_dcf_p05_threshold']:.6g})"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def run(args: argparse.Namespace) -> int:
    from speaker_tf.errors import CorpusError
    from speaker_tf.evaluation.metrics import verification_report
    from speaker_tf.evaluation.scoring import read_score_file

    scores, labels = read_score_file(args.scores)
    try:
        report = verification_report(scores, labels)
    except ValueError as exc:
        raise CorpusError(f"{args.scores}: {exc}") from None
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0
