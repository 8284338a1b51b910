"""User-given folders of impulse responses or noise recordings (RIRS_NOISES, MUSAN layouts).

Every audio file (.wav, .flac) under the folder, recursively, is one item; they
are read once in Python (soundfile; first channel; resampled with soxr to the
training rate) and kept in memory, so the graph only indexes a tensor. Large
collections are capped by a seeded subset of the sorted file list, so the
same folder and seed give the same bank.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from speaker_tf.errors import CorpusError

__all__ = ["AUDIO_SUFFIXES", "list_audio", "read_audio"]

AUDIO_SUFFIXES = (".wav", ".flac")


def list_audio(folder: str | Path, what: str, skip_noise_names: bool = False) -> list[Path]:
    """Sorted audio files under `folder`; CorpusError naming the folder when missing or empty.

    `skip_noise_names` leaves out files and folders whose name contains
    "noise": RIRS_NOISES keeps its noise recordings beside its impulse
    responses under such names.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"{what} folder {str(root)!r} does not exist or is not a folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if skip_noise_names:
        files = [p for p in files if not any("noise" in part.lower() for part in p.relative_to(root).parts)]
    if not files:
        names = ", ".join(AUDIO_SUFFIXES)
        raise CorpusError(f"{what} folder {str(root)!r} contains no audio files ({names})")
    return files


def _subset(files: list[Path], limit: int, seed: int) -> list[Path]:
    if limit < 1:
        raise ValueError(f"the number of files to load must be >= 1, got {limit}")
    if len(files) <= limit:
        return files
    keep = np.sort(np.random.default_rng(seed).choice(len(files), limit, replace=False))
    return [files[i] for i in keep]


def read_audio(
    folder: str | Path,
    what: str,
    sample_rate: int,
    limit: int,
    seconds: float,
    seed: int = 0,
    skip_noise_names: bool = False,
) -> list[np.ndarray]:
    """At most `limit` files of `folder` as float32 arrays at `sample_rate`, each cut to `seconds`.

    An unreadable, empty or silent file is a CorpusError naming it.
    """
    import soundfile as sf
    import soxr

    arrays = []
    keep = int(round(seconds * sample_rate))
    for path in _subset(list_audio(folder, what, skip_noise_names), limit, seed):
        try:
            audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            raise CorpusError(f"{what} file {str(path)!r} is unreadable: {error}") from None
        x = audio[:, 0]
        if rate != sample_rate and len(x):
            x = soxr.resample(x, rate, sample_rate).astype(np.float32)
        x = x[:keep]
        if len(x) == 0 or not np.all(np.isfinite(x)) or not np.any(x):
            raise CorpusError(f"{what} file {str(path)!r} is empty, silent or not finite")
        arrays.append(np.ascontiguousarray(x, dtype=np.float32))
    return arrays
