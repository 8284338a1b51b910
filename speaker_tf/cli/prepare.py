"""`speaker-tf prepare SRC DST`: convert a corpus to 16 kHz mono 16-bit WAV."""

from __future__ import annotations

import argparse

HELP = "convert any soundfile-readable corpus to 16 kHz mono 16-bit WAV (mirrored tree, resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="source corpus folder (never modified)")
    parser.add_argument("dst", help="destination folder (outside SRC); existing converted files are kept")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
    parser.add_argument("--strict", action="store_true", help="stop at the first unreadable file")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="exit 0 although some files could not be converted (listed in DST/prepare_failures.txt)",
    )
    parser.add_argument("--sample-rate", type=int, default=16000, help="output sample rate in Hz")


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.prepare import prepare_corpus
    from speaker_tf.errors import CorpusError

    report = prepare_corpus(
        args.src, args.dst, workers=args.workers, strict=args.strict, sample_rate=args.sample_rate
    )
    if report.failed and not args.skip_bad:
        raise CorpusError(
            f"{len(report.failed)} source file(s) could not be converted (listed with the reasons in "
            f"{report.failures_file}); fix them and run again, or pass --skip-bad to go on without them"
        )
    return 0
