"""`speaker-tf diff A B`: the configuration keys where two experiments differ."""

from __future__ import annotations

import argparse

HELP = "print the config difference between two experiments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="experiment name, e.g. exp_121")
    parser.add_argument("b", help="experiment name, e.g. exp_122")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.config import diff
    from speaker_tf.config.experiment import load_experiment

    a, b = load_experiment(args.a), load_experiment(args.b)
    changes = diff(a.config, b.config)
    if not changes:
        print(f"{a.name} and {b.name} have the same configuration")
    width = max((len(key) for key in changes), default=0)
    for key, (value_a, value_b) in changes.items():
        print(f"{key:<{width}}  {value_a!r} -> {value_b!r}")
    return 0
