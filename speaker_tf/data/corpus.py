"""Corpus readers: which audio files exist and whose voice each one is.

All layouts are "one folder per speaker" at the top, so one generic reader
(:func:`read_speaker_folders`) does the work and the named ones fix the depth
and extensions:

- VoxCeleb1 / VoxCeleb2: ``<root>/<id>/<session>/<utt>.wav``; ``root`` may also
  be the folder above ``wav/`` (VoxCeleb1) or above ``dev/aac/`` (VoxCeleb2
  after conversion to WAV: libsndfile cannot decode AAC, convert .m4a first);
- LibriSpeech: ``<root>/<speaker>/<chapter>/<utt>.flac``;
- generic: ``<root>/<speaker>/**/<file>`` with any soundfile-readable extension.

Every file is screened with soundfile (header only). ``strict=False`` skips
unusable files and prints how many (naming a few); ``strict=True`` stops at
the first with a CorpusError naming it. Hidden files / folders are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from speaker_tf.data.audio import AUDIO_EXTENSIONS, audio_info
from speaker_tf.errors import AudioError, CorpusError

__all__ = [
    "Utterance",
    "Corpus",
    "read_speaker_folders",
    "read_voxceleb",
    "read_librispeech",
    "read_corpus",
    "read_trial_list",
    "EVALUATION_ONLY",
    "refuse_evaluation_only",
]

PathLike = str | os.PathLike

# A file of this name marks a folder (and all below it) as test speech that no training may read: put one
# in a folder kept for measuring generalisation, so that neither `--data` nor `pack` takes it.
EVALUATION_ONLY = "EVALUATION_ONLY"


def refuse_evaluation_only(root: PathLike, use: str) -> None:
    """CorpusError naming the marker if ``root`` or a folder above it holds an ``EVALUATION_ONLY`` file."""
    for folder in (Path(root), *Path(root).resolve().parents):
        if (folder / EVALUATION_ONLY).is_file():
            raise CorpusError(
                f"{use} {str(root)!r} is evaluation-only speech (marked by "
                f"{str(folder / EVALUATION_ONLY)!r}): score it, do not train on it"
            )


@dataclass(frozen=True)
class Utterance:
    """One audio file: absolute ``path``, ``speaker`` label, ``relpath`` (POSIX, from the root)."""

    path: Path
    speaker: str
    relpath: str


@dataclass
class Corpus(Sequence[Utterance]):
    """A list of utterances under ``root`` plus the files that were skipped."""

    root: Path
    utterances: list[Utterance]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relpath, reason)

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index):  # type: ignore[override]
        return self.utterances[index]

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self.utterances)

    def speakers(self) -> list[str]:
        """Sorted distinct speaker labels."""
        return sorted({u.speaker for u in self.utterances})

    def by_speaker(self) -> dict[str, list[Utterance]]:
        """Speaker -> utterances, speakers sorted, utterances in corpus order."""
        groups: dict[str, list[Utterance]] = {s: [] for s in self.speakers()}
        for u in self.utterances:
            groups[u.speaker].append(u)
        return groups

    def require_speakers(self, minimum: int = 2, purpose: str = "training") -> None:
        """CorpusError unless the corpus has at least ``minimum`` speakers."""
        n = len(self.speakers())
        if n < minimum:
            raise CorpusError(
                f"corpus {str(self.root)!r} has {n} speaker(s) ({len(self)} utterances); "
                f"{purpose} needs at least {minimum}"
            )


def _walk(base: Path) -> Iterator[Path]:
    """Files under ``base`` in sorted order, skipping hidden entries."""
    for dirpath, dirnames, filenames in os.walk(base, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def read_speaker_folders(
    root: PathLike,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
    strict: bool = False,
    depth: int | None = None,
    check: bool = True,
    verbose: bool = True,
) -> Corpus:
    """Generic reader: every audio file under ``<root>/<speaker>/`` belongs to ``speaker``.

    ``depth`` (None = any) is the number of path components below ``root``
    including the file name (3 for ``speaker/session/utt.wav``); files at
    another depth are skipped like bad files. ``check=False`` skips the
    soundfile screening (faster for huge, trusted corpora).
    """
    base = Path(root)
    if not base.is_dir():
        raise CorpusError(f"corpus folder {str(base)!r} does not exist or is not a folder")
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    utterances: list[Utterance] = []
    skipped: list[tuple[str, str]] = []
    for path in _walk(base):
        if path.suffix.lower() not in exts:
            continue
        rel = path.relative_to(base)
        relpath = rel.as_posix()
        problem = None
        if len(rel.parts) < 2:
            problem = "not inside a speaker folder"
        elif depth is not None and len(rel.parts) != depth:
            problem = f"expected {depth} path levels (speaker/.../file), found {len(rel.parts)}"
        elif check:
            try:
                audio_info(path)
            except AudioError as exc:
                problem = str(exc)
        if problem is not None:
            if strict:
                raise CorpusError(f"bad file {str(path)!r} in corpus {str(base)!r}: {problem}")
            skipped.append((relpath, problem))
            continue
        utterances.append(Utterance(path=path, speaker=rel.parts[0], relpath=relpath))
    if not utterances:
        detail = f"; skipped {len(skipped)} unusable: {skipped[0][1]}" if skipped else ""
        raise CorpusError(
            f"no usable audio files ({', '.join(sorted(exts))}) under {str(base)!r} "
            f"in <speaker>/... folders{detail}"
        )
    corpus = Corpus(root=base, utterances=utterances, skipped=skipped)
    if verbose and skipped:
        few = "; ".join(f"{rel} ({why})" for rel, why in skipped[:3])
        more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        print(
            f"corpus {base}: kept {len(utterances)} files of {len(corpus.speakers())} speakers, "
            f"skipped {len(skipped)} bad files: {few}{more}"
        )
    return corpus


def _voxceleb_base(root: Path) -> Path:
    for sub in ("wav", "dev/wav", "dev/aac", "aac"):
        if (root / sub).is_dir():
            return root / sub
    return root


def read_voxceleb(
    root: PathLike, extensions: Iterable[str] = (".wav",), strict: bool = False, verbose: bool = True
) -> Corpus:
    """VoxCeleb1/2 tree ``<id>/<session>/<utt>.wav`` (``root`` may hold ``wav/`` or ``dev/aac/``)."""
    return read_speaker_folders(_voxceleb_base(Path(root)), extensions, strict, depth=3, verbose=verbose)


def read_librispeech(
    root: PathLike, extensions: Iterable[str] = (".flac", ".wav"), strict: bool = False, verbose: bool = True
) -> Corpus:
    """LibriSpeech subset folder ``<speaker>/<chapter>/<utt>.flac``."""
    return read_speaker_folders(root, extensions, strict, depth=3, verbose=verbose)


def read_corpus(
    root: PathLike, layout: str = "generic", strict: bool = False, verbose: bool = True
) -> Corpus:
    """Dispatch by layout name: 'voxceleb', 'librispeech' or 'generic'."""
    readers = {"voxceleb": read_voxceleb, "librispeech": read_librispeech}
    if layout == "generic":
        return read_speaker_folders(root, strict=strict, verbose=verbose)
    if layout not in readers:
        raise ValueError(f"unknown corpus layout {layout!r}; expected generic, voxceleb or librispeech")
    return readers[layout](root, strict=strict, verbose=verbose)


def read_trial_list(path: PathLike, root: PathLike):
    """Trials of a VoxCeleb-style list (``veri_test2.txt``), checking every path exists under ``root``.

    Returns ``speaker_tf.evaluation.scoring.Trial`` objects; a missing file is a
    CorpusError naming the path and the 1-based line of the list.
    """
    from speaker_tf.evaluation.scoring import read_trials

    base = Path(root)
    if not base.is_dir():
        raise CorpusError(f"trial root {str(base)!r} does not exist or is not a folder")
    trials = read_trials(path)
    # read_trials skips blank lines; recover each trial's line number for messages.
    text = Path(path).read_text(encoding="utf-8")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.split()]
    seen: dict[str, bool] = {}
    for trial, line_no in zip(trials, lines, strict=True):
        for rel in (trial.enroll, trial.test):
            if rel not in seen:
                seen[rel] = (base / rel).is_file()
            if not seen[rel]:
                raise CorpusError(f"{path}:{line_no}: audio file {rel!r} not found under {str(base)!r}")
    return trials
