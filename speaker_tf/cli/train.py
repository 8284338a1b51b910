"""`speaker-tf train EXPERIMENT ...`: the same as `python -m experiments.EXPERIMENT ...`."""

from __future__ import annotations

import argparse

from speaker_tf.training import entry

HELP = "train, evaluate and export an experiment (same as python -m experiments.EXPERIMENT)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment name, e.g. exp_122 (see `speaker-tf experiments`)")
    entry.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from speaker_tf.config.experiment import load_experiment

    return entry.run(load_experiment(args.experiment), args)
