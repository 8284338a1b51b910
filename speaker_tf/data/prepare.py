"""`prepare`: convert a corpus to 16 kHz mono 16-bit WAV, mirroring its tree.

The original project trained on VoxCeleb2 converted to 16-bit WAV
beforehand; this is that step for any soundfile-readable corpus.

- ``SRC/a/b/x.flac`` -> ``DST/a/b/x.wav``; other rates are resampled (soxr),
  multi-channel files are mixed to mono by averaging the channels.
- Resumable: a DST file that exists, is non-empty and is readable audio is
  skipped; each file is written to a temp name and renamed, so a killed run
  leaves no half-written file under a final name.
- Source audio is never modified: DST equal to, inside, or containing SRC
  is refused, and so are two sources mapping to one DST file.
- Bad inputs are skipped, counted in the report and listed in full (path and
  reason, one per line) in ``DST/prepare_failures.txt``, which a run without
  failures removes (``strict=True``: CorpusError at the first bad file instead).
- Progress is shown on stderr while converting (``verbose``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from speaker_tf.data.audio import (
    AUDIO_EXTENSIONS,
    audio_info,
    default_workers,
    load_audio,
    process_pool,
    write_wav16,
)
from speaker_tf.errors import AudioError, CorpusError

__all__ = ["FAILURES_FILE", "PrepareReport", "prepare_corpus"]

FAILURES_FILE = "prepare_failures.txt"  # in DST: "relative source path<TAB>reason" per line

PathLike = str | os.PathLike


@dataclass
class PrepareReport:
    """What a prepare run did (``failed``: (source relpath, reason))."""

    converted: int = 0
    skipped_existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    failures_file: Path | None = None  # the full list of ``failed``, when there were any

    def summary(self) -> str:
        text = f"converted {self.converted}, already done {self.skipped_existing}, failed {len(self.failed)}"
        if self.failed:
            text += ": " + "; ".join(f"{rel} ({why})" for rel, why in self.failed[:3])
            if len(self.failed) > 3:
                text += f"; and {len(self.failed) - 3} more"
        if self.failures_file is not None:
            text += f" (all listed in {self.failures_file})"
        return text


def _is_done(path: Path) -> bool:
    try:
        audio_info(path)
        return True
    except AudioError:
        return False


def _convert(job: tuple[str, str, int]) -> str | None:
    """Convert one file; returns None on success, else the reason."""
    src, dst, sample_rate = job
    try:
        wav = load_audio(src, sample_rate, mono="mix")
        write_wav16(dst, wav, sample_rate)
    except (AudioError, OSError, ValueError) as exc:
        return str(exc)
    return None


def _sources(src: Path, extensions: Iterable[str]) -> list[Path]:
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in exts:
                found.append(Path(dirpath) / name)
    return found


def prepare_corpus(
    src: PathLike,
    dst: PathLike,
    workers: int | None = None,
    strict: bool = False,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
    sample_rate: int = 16000,
    verbose: bool = True,
) -> PrepareReport:
    """Convert every audio file under ``src`` into ``dst`` (see the module docstring)."""
    src_dir, dst_dir = Path(src).resolve(), Path(dst).resolve()
    if not src_dir.is_dir():
        raise CorpusError(f"source corpus {str(src)!r} does not exist or is not a folder")
    if dst_dir == src_dir or src_dir in dst_dir.parents:
        raise CorpusError(
            f"destination {str(dst)!r} is {'the source' if dst_dir == src_dir else 'inside the source'} "
            f"{str(src)!r}; choose a folder outside it (prepare never writes into its source)"
        )
    if dst_dir in src_dir.parents:
        raise CorpusError(
            f"destination {str(dst)!r} contains the source {str(src)!r}; choose a separate folder "
            "so converted files can never land on source audio"
        )
    sources = _sources(src_dir, extensions)
    if not sources:
        raise CorpusError(f"no audio files ({', '.join(sorted(extensions))}) under {str(src)!r}")
    targets: dict[Path, Path] = {}
    for path in sources:
        target = dst_dir / path.relative_to(src_dir).with_suffix(".wav")
        if target in targets:
            raise CorpusError(
                f"{str(targets[target])!r} and {str(path)!r} would both be converted to {str(target)!r}; "
                "rename one of them"
            )
        targets[target] = path
    report = PrepareReport()
    jobs = []
    for target, path in targets.items():
        if _is_done(target):
            report.skipped_existing += 1
        else:
            jobs.append((str(path), str(target), int(sample_rate)))
    if jobs:
        _convert_all(jobs, src_dir, workers, strict, verbose, report)
    _write_failures(dst_dir, report)
    if verbose:
        print(f"prepare {src} -> {dst}: {report.summary()}")
    return report


def _convert_all(
    jobs: list[tuple[str, str, int]],
    src_dir: Path,
    workers: int | None,
    strict: bool,
    verbose: bool,
    report: PrepareReport,
) -> None:
    from speaker_tf.export.tools import Progress

    bar = Progress(len(jobs), "converting", enabled=verbose)
    with process_pool(min(len(jobs), default_workers(workers))) as pool:
        results = pool.map(_convert, jobs, chunksize=max(1, len(jobs) // 256))
        for (path, _, _), problem in zip(jobs, results, strict=True):
            bar.update()
            if problem is None:
                report.converted += 1
                continue
            if strict:
                raise CorpusError(f"cannot convert {path!r}: {problem}")
            report.failed.append((Path(path).relative_to(src_dir).as_posix(), problem))


def _write_failures(dst_dir: Path, report: PrepareReport) -> None:
    """The full list of this run's failures, or no list when nothing failed."""
    path = dst_dir / FAILURES_FILE
    if not report.failed:
        path.unlink(missing_ok=True)  # a list from an earlier run is out of date
        return
    dst_dir.mkdir(parents=True, exist_ok=True)
    lines = (f"{rel}\t{' '.join(why.split())}\n" for rel, why in report.failed)
    path.write_text("".join(lines), encoding="utf-8")
    report.failures_file = path
