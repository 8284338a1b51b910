"""`speaker-tf prepare SRC DST`: convert a corpus to 16 kHz mono 16-bit WAV."""

from __future__ import annotations

import argparse

HELP = "convert any soundfile-readable corpus to 16 kHz mono 16-bit WAV (mirrored tree, resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="source corpus folder (never modified)")
    parser.add_argument("dst", help="destination folder (outside SRC); existing converted files are kept")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
    parser.add_argument("--strict", action="store_true", help="stop at the first unreadable file")
    parser.add_argument("--sample-rate", type=int, default=16000, help="output sample rate in Hz")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.prepare import prepare_corpus

    prepare_corpus(args.src, args.dst, workers=args.workers, strict=args.strict, sample_rate=args.sample_rate)
    return 0  # bad files were skipped and reported; --strict makes them fatal
