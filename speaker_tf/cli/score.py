"""`speaker-tf score`: embed every trial utterance once, write a score file, print EER / minDCF."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speaker_tf.export.model_path import MODEL_HELP

HELP = "Score a trial list with a trained encoder and write 'score label enroll test' lines."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="M",
        help=MODEL_HELP.replace("its encoder.keras", "a .keras file"),
    )
    parser.add_argument(
        "--trials",
        required=True,
        metavar="T",
        help="trial list: 'label enroll test' per line (VoxCeleb format)",
    )
    parser.add_argument("--root", required=True, metavar="R", help="folder the trial paths are relative to")
    parser.add_argument("--out", required=True, metavar="SCORES", help="score file to write")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
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
    parser.add_argument(
        "--cohort",
        metavar="DIR",
        help="S-norm the scores with a cohort: a folder <speaker>/**/<audio> of training speakers "
        "(one mean embedding per speaker)",
    )
    parser.add_argument(
        "--cohort-top",
        type=int,
        default=None,
        metavar="N",
        help="adaptive S-norm: use the N most similar cohort speakers per side (default: all, plain S-norm)",
    )
    parser.add_argument(
        "--standardise",
        metavar="SOURCE",
        help="z-score every embedding dimension before the cosine with the mean / std of SOURCE: 'list' "
        "(the trial list's own utterances, as the MFCC baseline does with its statistics) or a folder of "
        "unlabelled audio from the domain you score (e.g. your recordings); './list' names a folder 'list'",
    )
    parser.add_argument(
        "--fuse-baseline",
        nargs="?",
        const="",
        default=None,
        metavar="FUSION_JSON",
        help="fuse with the MFCC baseline using the weights a run fitted on its validation trials "
        "(RUN/fusion.json; default: the model's run folder); the score file holds the fused scores",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="windows per encoder call")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
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
    from speaker_tf.export.model_path import resolve_model

    root = Path(args.root)
    if not root.is_dir():
        raise CorpusError(f"audio root {str(root)!r} is not a directory")
    trials = read_trials(args.trials)
    model = resolve_model(args.model)
    reference_files = _reference_files(args)
    _check_out(args, trials, model)  # before the slow part
    fusion = _fusion(args, model)
    embed = load_embedder(model.path)
    embeddings = embed_utterances(
        embed,
        trial_utterances(trials),
        window_seconds=args.window,
        hop_seconds=args.hop,
        root=root,
        batch_size=args.batch_size,
    )
    if args.standardise:
        embeddings = _standardise(embeddings, reference_files, args, embed)
    scores = cosine_scores(embeddings, trials)
    if args.cohort:
        scores = _normalise(scores, embeddings, trials, args, embed)
    labels = [t.label for t in trials]
    try:
        report = verification_report(scores, labels)
        if fusion is not None:
            from speaker_tf.data.baseline import score_trials

            scores = fusion.apply(scores, score_trials(trials, root))
            fused = verification_report(scores, labels)
            report = {**{f"model_{k}": v for k, v in report.items()}, **fused}
    except ValueError as exc:
        raise CorpusError(f"{args.trials}: {exc}") from None
    write_score_file(args.out, scores, trials)
    report["n_utterances"] = len(embeddings)
    report["score_file"] = str(args.out)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"wrote {len(trials)} {'fused ' if fusion else ''}scores to {args.out}")
        if fusion is not None:
            print(f"model alone: EER {100 * report['model_eer']:.2f} %; fused with the MFCC baseline:")
        print(format_report(report))
    return 0


def _fusion(args: argparse.Namespace, model):
    """The fusion parameters --fuse-baseline names (None without the flag)."""
    from speaker_tf.evaluation.fusion import load_fusion

    if args.fuse_baseline is None:
        return None
    if args.cohort:
        raise ValueError(
            "--fuse-baseline and --cohort do not combine: the fusion was fitted on raw cosine scores"
        )
    if args.fuse_baseline:
        return load_fusion(args.fuse_baseline)
    if model.run_dir is None:
        raise ValueError(
            f"--fuse-baseline: {model.describe()} is not a training run; give the run's fusion.json path"
        )
    return load_fusion(model.run_dir)


def _reference_files(args: argparse.Namespace) -> list[Path] | None:
    """The audio files of a --standardise folder (None for 'list' or without the flag), checked early."""
    from speaker_tf.errors import CorpusError
    from speaker_tf.export.tools import collect_audio_files

    if not args.standardise:
        return None
    for other, flag in ((args.cohort, "--cohort"), (args.fuse_baseline, "--fuse-baseline")):
        if other is not None:
            raise ValueError(
                f"--standardise and {flag} do not combine: the {flag[2:].replace('-', ' ')} works on raw "
                "cosine scores"
            )
    if args.standardise == "list":
        return None
    folder = Path(args.standardise)
    if not folder.is_dir():
        raise CorpusError(f"--standardise {args.standardise!r}: not 'list' and not a folder")
    files = collect_audio_files([folder])
    if len(files) < 2:
        raise CorpusError(
            f"--standardise folder {str(folder)!r} holds 1 audio file; a standard deviation needs at least 2"
        )
    return files


def _standardise(
    embeddings: dict, reference_files: list[Path] | None, args: argparse.Namespace, embed
) -> dict:
    """The trial embeddings z-scored per dimension with the --standardise source's statistics."""
    import numpy as np

    from speaker_tf.evaluation.normalization import standardise
    from speaker_tf.evaluation.scoring import embed_utterances

    utts = list(embeddings)
    matrix = np.stack([embeddings[u] for u in utts])
    if reference_files is None:
        reference = matrix
        print(f"standardised on the trial list's {len(utts)} utterances")
    else:
        found = embed_utterances(
            embed, [str(f) for f in reference_files], args.window, args.hop, batch_size=args.batch_size
        )
        reference = np.stack(list(found.values()))
        print(f"standardised on {len(reference)} files of {args.standardise}")
    return dict(zip(utts, standardise(matrix, reference), strict=True))


def _check_out(args: argparse.Namespace, trials, model) -> None:
    """--out is new (or --force), in a writable folder, and none of the inputs."""
    from speaker_tf.cli.output_file import check_output_file
    from speaker_tf.evaluation.scoring import trial_utterances

    inputs = [("trial list", args.trials), ("model", model.path)]
    inputs += [("trial audio file", Path(args.root) / u) for u in trial_utterances(trials)]
    folders = [("export", model.path)] if model.kind == "export" else []
    if args.cohort:
        folders.append(("cohort", args.cohort))
    if args.standardise and args.standardise != "list":
        folders.append(("standardisation folder", args.standardise))
    check_output_file(args.out, force=args.force, inputs=inputs, input_folders=folders)


def _normalise(scores, embeddings, trials, args: argparse.Namespace, embed):
    """S-norm / AS-norm against one mean embedding per cohort speaker."""
    import numpy as np

    from speaker_tf.data.corpus import read_corpus
    from speaker_tf.evaluation.normalization import s_norm
    from speaker_tf.evaluation.scoring import embed_utterances, l2_normalize

    corpus = read_corpus(args.cohort, verbose=False)
    corpus.require_speakers(2, "a score-normalisation cohort")
    cohort_emb = embed_utterances(
        embed,
        [u.relpath for u in corpus],
        args.window,
        args.hop,
        root=corpus.root,
        batch_size=args.batch_size,
    )
    cohort = np.stack(
        [
            l2_normalize(np.mean([cohort_emb[u.relpath] for u in us], axis=0))
            for us in corpus.by_speaker().values()
        ]
    )
    if args.cohort_top is not None and not 1 <= args.cohort_top <= len(cohort):
        raise ValueError(
            f"--cohort-top must be between 1 and {len(cohort)} (cohort speakers), got {args.cohort_top}"
        )
    enroll = np.stack([embeddings[t.enroll] for t in trials])
    test = np.stack([embeddings[t.test] for t in trials])
    print(
        f"S-norm with {len(cohort)} cohort speakers" + (f", top {args.cohort_top}" if args.cohort_top else "")
    )
    return s_norm(scores, enroll, test, cohort, top_n=args.cohort_top)
