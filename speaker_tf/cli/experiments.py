"""`speaker-tf experiments`: every experiment with its parent and one-line change."""

from __future__ import annotations

import argparse

HELP = "list the experiments with their parent and the change their note makes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from speaker_tf.config.experiment import experiment_names, load_experiment

    for name in experiment_names():
        exp = load_experiment(name)
        parent = f"<- {exp.parent}" if exp.parent else "(root)"
        warm = f" [warm start: {exp.warm_start}]" if exp.warm_start else ""
        print(f"{exp.name:<24} {parent:<12} {exp.change}{warm}")
    return 0
