"""`speaker-tf pack CORPUS OUT`: a prepared corpus as sharded TFRecords."""

from __future__ import annotations

import argparse

HELP = "pack a 16-bit WAV corpus (its train/ split if it has one) into sharded TFRecords (resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", help="prepared corpus (speaker-tf prepare): <speaker>/**/<utt>.wav")
    parser.add_argument("out", help="output folder (outside CORPUS); finished shards are kept on a rerun")
    parser.add_argument(
        "--shard-mb", type=float, default=128.0, help="target shard size in MB (see README: packed shards)"
    )
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
    parser.add_argument("--sample-rate", type=int, default=16000, help="expected sample rate in Hz")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.pack import pack_corpus

    pack_corpus(
        args.corpus, args.out, shard_mb=args.shard_mb, workers=args.workers, sample_rate=args.sample_rate
    )
    return 0
