"""`speaker-tf sweep EXPERIMENT --space SPACE.yaml ...`: an Optuna study minimising validation EER."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Optuna study over an experiment's config (minimises val EER; resumable, parallel-safe)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from speaker_tf.training.sweep import PRUNERS

    parser.add_argument("experiment", help="experiment name, e.g. exp_conformer_aam")
    parser.add_argument("--space", required=True, help="search space YAML (see experiments/spaces/)")
    parser.add_argument("--trials", type=int, required=True, help="finished trials the study should hold")
    parser.add_argument("--storage", required=True, help="Optuna storage URL, e.g. sqlite:///study.db")
    parser.add_argument("--study", help="study name (default: the experiment's name)")
    parser.add_argument(
        "--profile",
        choices=["auto", "none", "cpu", "quick", "full"],
        default="auto",
        help="compute budget under every trial (auto: cpu on the embedded corpus, else full)",
    )
    parser.add_argument("--data", help="corpus root (default: embedded corpus)")
    parser.add_argument("--out", help="plots, best.json and trial runs (default: beside the sqlite file)")
    parser.add_argument("--pruner", choices=PRUNERS, default="median", help="stops bad trials early")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value in every trial (not a searched key)",
    )
    parser.add_argument("--seed", type=int, help="sampler seed (default: random)")
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        metavar="SECONDS",
        help="a trial without a heartbeat for twice this is taken as dead, marked failed and retried",
    )
    parser.add_argument(
        "--no-default-trial",
        action="store_true",
        help="do not start a new study with the experiment's own values of the searched keys",
    )


def run(args: argparse.Namespace) -> int:
    from speaker_tf.config.experiment import load_experiment
    from speaker_tf.training.space import SpaceError, load_space

    if args.trials < 1:
        raise SpaceError(f"--trials {args.trials} must be at least 1")
    if args.heartbeat < 1:
        raise SpaceError(f"--heartbeat {args.heartbeat} must be at least 1 second")
    experiment = load_experiment(args.experiment)
    # validate the space against the experiment under the profile before any trial (or TensorFlow)
    from speaker_tf.training.trainer import resolve_config

    profiled = resolve_config(experiment, (), args.data, args.profile)
    space = load_space(args.space, profiled, experiment.name)

    from speaker_tf.training import sweep

    config = sweep.base_config(experiment, space, args.overrides, args.data, args.profile)
    study = args.study or experiment.name
    settings = sweep.SweepSettings(
        storage=args.storage,
        study=study,
        trials=args.trials,
        out=Path(args.out) if args.out else sweep.default_out(args.storage, study),
        pruner=args.pruner,
        heartbeat_seconds=args.heartbeat,
        seed=args.seed,
        default_trial=not args.no_default_trial,
    )
    definition = sweep.study_definition(experiment, config, space, args.data, args.overrides)
    sweep.run_sweep(experiment, config, space, settings, definition)
    return 0
