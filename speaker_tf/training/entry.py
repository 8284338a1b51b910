"""Command line of an experiment: `python -m experiments.exp_N` == `speaker-tf train exp_N`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from speaker_tf.config.experiment import Experiment
from speaker_tf.errors import SpeakerTfError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (JSON value or bare string), e.g. --set optim.learning_rate=4e-4",
    )
    parser.add_argument("--data", help="corpus root with train/ val/ test/ splits (default: embedded corpus)")
    parser.add_argument("--out", default="runs", help="folder that holds runs/<experiment>/<timestamp>/")
    parser.add_argument(
        "--profile",
        choices=["auto", "none", "cpu", "quick", "full"],
        default="auto",
        help="compute budget applied on top of the experiment (auto: cpu on the embedded corpus, else full)",
    )
    parser.add_argument(
        "--resume",
        help="continue the run in this run directory with its own config (no --set / --data / --profile)",
    )
    parser.add_argument(
        "--strategy",
        choices=["default", "mirrored", "multiworker", "tpu"],
        help="data parallelism, same as --set train.strategy=...; multiworker reads TF_CONFIG",
    )
    parser.add_argument(
        "--data-service",
        metavar="grpc://HOST:PORT",
        help="run the training input pipeline on this tf.data service dispatcher's workers, same as "
        "--set train.data_service=... (speaker-tf data-service; README: data service)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config and stop")
    parser.add_argument(
        "--verbose", action="store_true", help="keep TensorFlow's start-up log lines on stderr"
    )


def run(experiment: Experiment, args: argparse.Namespace) -> int:
    from speaker_tf.training.trainer import resolve_config, train

    overrides = list(args.overrides) + ([f"train.strategy={args.strategy}"] if args.strategy else [])
    if args.data_service is not None:
        overrides.append(f"train.data_service={json.dumps(args.data_service)}")
    config = resolve_config(experiment, overrides, args.data, args.profile, args.resume)
    if args.dry_run:
        print(config.to_json())
        return 0
    train(experiment, config, out=args.out, resume=args.resume)
    return 0


def run_experiment(experiment: Experiment, argv: Sequence[str] | None = None) -> None:
    """Entry point of every `experiments.exp_*` module."""
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments.{experiment.name}", description=experiment.change
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not (args.verbose or args.dry_run):  # a dry run never imports TensorFlow
        from speaker_tf.cli.quiet import quiet_tensorflow

        quiet_tensorflow()
    try:
        code = run(experiment, args)
    except SpeakerTfError as error:
        print(f"{experiment.name}: error: {error}", file=sys.stderr)
        code = 2
    sys.exit(code)
