"""Audio I/O: one reader and one writer for every module of the toolkit.

`load_audio` turns any file libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...)
into a float32 mono waveform at the requested rate, or raises AudioError
naming the file and the problem: a corpus with one bad file should say which.
`write_wav16` writes 16-bit PCM WAV atomically (temp file + rename), so a
killed writer never leaves a half-written file under the final name.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from speaker_tf.errors import AudioError

__all__ = [
    "AUDIO_EXTENSIONS",
    "audio_info",
    "check_audio",
    "load_audio",
    "peak_normalise",
    "write_wav16",
    "process_pool",
    "default_workers",
    "to_int16",
]

PathLike = str | os.PathLike

# Extensions of formats libsndfile (hence soundfile) decodes; AAC/M4A is not among them.
AUDIO_EXTENSIONS: tuple[str, ...] = (
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".aiff",
    ".aif",
    ".au",
    ".w64",
    ".caf",
    ".rf64",
)

# Data-size values that streaming writers (e.g. `espeak-ng --stdout`) put in a WAV
# header before the length is known; such files are not "truncated".
_STREAMING_SIZES = {0, 0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000}


def _wav_truncation(path: Path) -> str | None:
    """For a RIFF/WAVE file, a description of the truncation, or None if complete.

    libsndfile silently reads a WAV whose data chunk is shorter than its header
    claims (a copy interrupted half-way); checking the declared size catches it.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, csize = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"data":
                    if csize in _STREAMING_SIZES:
                        return None
                    available = size - pos - 8
                    if csize > available:
                        return f"truncated WAV: header declares {csize} data bytes, file holds {available}"
                    return None
                pos += 8 + csize + (csize & 1)
            return "truncated WAV: no data chunk"
    except OSError:
        return None


def audio_info(path: PathLike) -> sf._SoundFileInfo:
    """soundfile.info of a usable audio file, else AudioError naming the file.

    Checks: exists, non-empty, readable by libsndfile, not a truncated WAV,
    at least one frame. Cheap (reads only the header), used to screen corpora.
    """
    p = Path(path)
    if p.is_dir():
        raise AudioError(f"audio file {str(p)!r} is a folder, not a file")
    if not p.is_file():
        raise AudioError(f"audio file {str(p)!r} does not exist")
    if p.stat().st_size == 0:
        raise AudioError(f"audio file {str(p)!r} is empty (0 bytes)")
    try:
        info = sf.info(str(p))
    except Exception as exc:  # LibsndfileError, RuntimeError, TypeError depending on version
        raise AudioError(f"audio file {str(p)!r} is unreadable or not audio: {exc}") from None
    problem = _wav_truncation(p)
    if problem:
        raise AudioError(f"audio file {str(p)!r}: {problem}")
    if info.frames == 0:
        raise AudioError(f"audio file {str(p)!r} contains no samples")
    return info


def check_audio(path: PathLike) -> None:
    """Raise AudioError naming the file unless :func:`audio_info` accepts it."""
    audio_info(path)


def load_audio(
    path: PathLike,
    sample_rate: int = 16000,
    mono: Literal["error", "mix"] = "error",
    resample: bool = True,
) -> np.ndarray:
    """Read an audio file as a float32 1-D waveform in [-1, 1] at ``sample_rate``.

    mono="error" refuses multi-channel files (a corpus that should be mono but
    is not is usually a conversion mistake); mono="mix" averages the channels.
    With resample=False a file at another rate is an error instead of being
    resampled (soxr, high quality). NaN/Inf samples are an error.
    """
    if mono not in ("error", "mix"):
        raise ValueError(f"mono must be 'error' or 'mix', got {mono!r}")
    p = Path(path)
    audio_info(p)
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"audio file {str(p)!r} is unreadable or truncated: {exc}") from None
    if data.shape[0] == 0:
        raise AudioError(f"audio file {str(p)!r} contains no samples")
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise AudioError(f"audio file {str(p)!r} contains {bad} NaN/Inf samples")
    if data.shape[1] > 1:
        if mono == "error":
            raise AudioError(
                f"audio file {str(p)!r} has {data.shape[1]} channels, expected mono "
                "(use mono='mix' to average)"
            )
        wav = data.mean(axis=1, dtype=np.float32)
    else:
        wav = data[:, 0]
    if sr != sample_rate:
        if not resample:
            raise AudioError(f"audio file {str(p)!r} has sample rate {sr} Hz, expected {sample_rate} Hz")
        import soxr

        wav = soxr.resample(wav, sr, sample_rate, quality="HQ")
    return np.ascontiguousarray(wav, dtype=np.float32)


def peak_normalise(samples: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Divide by the largest absolute sample (the original input normalisation).

    Silence (peak below ``eps``) is returned unchanged instead of exploding.
    """
    x = np.asarray(samples, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak < eps:
        return x.copy()
    return (x / peak).astype(np.float32)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float [-1, 1] -> int16 by clipping and rounding (x * 32767)."""
    x = np.asarray(samples, dtype=np.float64)
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def write_wav16(path: PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono or [frames, channels] samples as 16-bit PCM WAV, atomically.

    Float input is clipped to [-1, 1] and scaled by 32767; int16 input is written
    as is. The file appears under its final name only once complete.
    """
    p = Path(path)
    x = np.asarray(samples)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(
            f"cannot write {str(p)!r}: expected a non-empty 1-D or 2-D array, got shape {x.shape}"
        )
    if x.dtype != np.int16:
        if not np.all(np.isfinite(x)):
            raise AudioError(f"refusing to write {str(p)!r}: samples contain NaN/Inf")
        x = to_int16(x)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.partial")
    try:
        sf.write(str(tmp), x, int(sample_rate), subtype="PCM_16", format="WAV")
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


def process_pool(workers: int | None) -> Executor:
    """Executor for per-file audio work: processes, or a thread when workers == 1.

    Uses fork where safe (fast start, Linux) and spawn once TensorFlow is
    imported, since forking a process that runs TensorFlow's threads can hang.
    Worker processes exit when this process dies, SIGKILL included
    (:mod:`speaker_tf.data.parent_death`).
    """
    from speaker_tf.data.parent_death import exit_with_parent

    workers = default_workers(workers)
    if workers == 1:
        return ThreadPoolExecutor(max_workers=1)
    method = "fork" if sys.platform.startswith("linux") and "tensorflow" not in sys.modules else "spawn"
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def default_workers(workers: int | None) -> int:
    """``workers`` validated, or the number of CPUs when None / 0."""
    if workers is None or workers == 0:
        return max(1, os.cpu_count() or 1)
    if workers < 0:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return int(workers)
