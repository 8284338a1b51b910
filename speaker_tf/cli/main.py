"""`speaker-tf` entry point: one subcommand per module in `speaker_tf.cli`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from speaker_tf.errors import SpeakerTfError

# name -> module; each module defines HELP, add_arguments(parser), run(args) -> int.
COMMANDS = {
    "synth": "speaker_tf.cli.synth",
    "prepare": "speaker_tf.cli.prepare",
    "pack": "speaker_tf.cli.pack",
    "data-service": "speaker_tf.cli.data_service",
    "baseline": "speaker_tf.cli.baseline",
    "train": "speaker_tf.cli.train",
    "experiments": "speaker_tf.cli.experiments",
    "diff": "speaker_tf.cli.diff",
    "score": "speaker_tf.cli.score",
    "metrics": "speaker_tf.cli.metrics",
    "export": "speaker_tf.cli.export",
    "embed": "speaker_tf.cli.embed",
    "verify": "speaker_tf.cli.verify",
    "enroll": "speaker_tf.cli.enroll",
    "identify": "speaker_tf.cli.identify",
    "sweep": "speaker_tf.cli.sweep",
}
# Commands that load TensorFlow: its start-up noise is hidden unless --verbose.
MODEL_COMMANDS = {"train", "score", "export", "embed", "verify", "enroll", "identify", "data-service"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speaker-tf", description="Speaker recognition with Keras 3.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        if name in MODEL_COMMANDS:
            try:
                sub.add_argument(
                    "--verbose", action="store_true", help="keep TensorFlow's start-up log lines on stderr"
                )
            except argparse.ArgumentError:  # defined by the command itself (train: training/entry.py)
                pass
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in MODEL_COMMANDS and not args.verbose and not getattr(args, "dry_run", False):
            from speaker_tf.cli.quiet import quiet_tensorflow

            quiet_tensorflow()
        return int(args._run(args) or 0)
    except (SpeakerTfError, ValueError, FileNotFoundError) as error:
        print(f"speaker-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"speaker-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
