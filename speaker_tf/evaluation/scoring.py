"""Trial lists, utterance embedding, cosine scoring and score files.

Scoring is split into composable steps (as in WeSpeaker): embed every
utterance once -> score each trial by cosine -> write ``score label enroll test``
lines -> compute metrics from the score file alone (:mod:`.metrics`).
No TensorFlow import: ``embed_fn`` is any callable mapping a float32 batch
``[N, samples]`` to a NumPy ``[N, D]`` array (see :mod:`.embedder`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speaker_tf.errors import CorpusError

__all__ = [
    "Trial",
    "read_trials",
    "write_trials",
    "trial_utterances",
    "cosine_scores",
    "write_score_file",
    "read_score_file",
    "embed_utterances",
    "l2_normalize",
]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Trial:
    """One verification trial: label 1 = same speaker, 0 = different speakers."""

    label: int
    enroll: str
    test: str


def read_trials(path: PathLike) -> list[Trial]:
    """Read a VoxCeleb-style trial list: ``label enroll test`` per line.

    ``label`` is 1 (target) or 0 (non-target); blank lines are skipped.
    Malformed lines raise CorpusError naming the file and 1-based line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorpusError(f"trial list {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read trial list {str(path)!r}: {exc}") from None
    trials: list[Trial] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise CorpusError(
                f"{path}:{number}: expected 'label enroll test' (3 fields), "
                f"got {len(fields)}: {line.strip()!r}"
            )
        if fields[0] not in ("0", "1"):
            raise CorpusError(f"{path}:{number}: label must be 0 or 1, got {fields[0]!r} in {line.strip()!r}")
        trials.append(Trial(int(fields[0]), fields[1], fields[2]))
    if not trials:
        raise CorpusError(f"trial list {str(path)!r} contains no trials")
    return trials


def write_trials(path: PathLike, trials: Iterable[Trial]) -> None:
    """Write trials in the format :func:`read_trials` reads."""
    with open(path, "w", encoding="utf-8") as f:
        for t in trials:
            f.write(f"{int(t.label)} {t.enroll} {t.test}\n")


def trial_utterances(trials: Iterable[Trial]) -> list[str]:
    """Distinct utterances used by the trials, in order of first appearance."""
    return list(dict.fromkeys(u for t in trials for u in (t.enroll, t.test)))


def l2_normalize(x: np.ndarray, axis: int = -1, eps: float = 1e-12) -> np.ndarray:
    """Unit-length rows; zero vectors stay zero instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return x / np.maximum(norm, eps)


def cosine_scores(embeddings: Mapping[str, Any], trials: Sequence[Trial]) -> np.ndarray:
    """Cosine similarity per trial, each utterance normalised once and looked up.

    Missing utterances raise CorpusError naming the utterance.
    """
    utts = trial_utterances(trials)
    index = {u: i for i, u in enumerate(utts)}
    rows = []
    for u in utts:
        try:
            e = embeddings[u]
        except KeyError:
            raise CorpusError(
                f"no embedding for utterance {u!r} (used in the trial list; "
                f"{len(embeddings)} embeddings available)"
            ) from None
        e = np.asarray(e, dtype=np.float64).reshape(-1)
        if rows and e.shape != rows[0].shape:
            raise CorpusError(f"embedding for {u!r} has dimension {e.shape[0]}, expected {rows[0].shape[0]}")
        if not np.all(np.isfinite(e)):
            raise CorpusError(f"embedding for utterance {u!r} contains NaN/inf")
        rows.append(e)
    if not rows:
        return np.zeros((0,), dtype=np.float64)
    mat = l2_normalize(np.stack(rows))
    a = np.fromiter((index[t.enroll] for t in trials), dtype=np.int64, count=len(trials))
    b = np.fromiter((index[t.test] for t in trials), dtype=np.int64, count=len(trials))
    return np.einsum("ij,ij->i", mat[a], mat[b])


def write_score_file(path: PathLike, scores: Any, trials: Sequence[Trial]) -> None:
    """Write ``score label enroll test`` lines; scores use repr() so they round-trip exactly."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape[0] != len(trials):
        raise ValueError(f"{s.shape[0]} scores for {len(trials)} trials")
    out = Path(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")  # an interrupted write loses nothing
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for score, t in zip(s.tolist(), trials, strict=True):
                f.write(f"{score!r} {int(t.label)} {t.enroll} {t.test}\n")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_score_file(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read ``score label [enroll test]`` lines into (float64 scores, int labels)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorpusError(f"score file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read score file {str(path)!r}: {exc}") from None
    scores: list[float] = []
    labels: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (2, 4):
            raise CorpusError(
                f"{path}:{number}: expected 'score label enroll test' (4 fields), "
                f"got {len(fields)}: {line.strip()!r}"
            )
        try:
            score = float(fields[0])
        except ValueError:
            raise CorpusError(f"{path}:{number}: score {fields[0]!r} is not a number") from None
        if not np.isfinite(score):
            raise CorpusError(f"{path}:{number}: score {fields[0]!r} is not finite")
        if fields[1] not in ("0", "1"):
            raise CorpusError(f"{path}:{number}: label must be 0 or 1, got {fields[1]!r}")
        scores.append(score)
        labels.append(int(fields[1]))
    if not scores:
        raise CorpusError(f"score file {str(path)!r} contains no scores")
    return np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)


def _read_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Peak-normalised mono float32 waveform at ``sample_rate``; AudioError naming the file otherwise.

    Wrong rates are refused rather than resampled: scoring audio at another rate
    than training is usually a corpus-preparation mistake worth surfacing. The
    whole utterance is peak-normalised, as the training pipeline does before cropping.
    """
    from speaker_tf.data.audio import load_audio, peak_normalise

    return peak_normalise(load_audio(path, sample_rate=sample_rate, mono="error", resample=False))


def _windows(wav: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Fixed-length windows covering the whole waveform, ``[W, window]``.

    Windows start every ``hop`` samples; if the last one stops short of the end a
    final window aligned to the end is added. Shorter waveforms are tiled
    (wrap padding) to one window, which keeps the signal's statistics unlike zeros.
    """
    n = wav.shape[0]
    if n <= window:
        return np.pad(wav, (0, window - n), mode="wrap")[None, :]
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] + window < n:
        starts.append(n - window)
    return np.stack([wav[s : s + window] for s in starts])


def _embed_batch(embed_fn: Callable[[np.ndarray], Any], batch: np.ndarray, name: str) -> np.ndarray:
    out = np.asarray(embed_fn(np.ascontiguousarray(batch, dtype=np.float32)))
    if out.ndim != 2 or out.shape[0] != batch.shape[0]:
        raise ValueError(
            f"embed_fn returned shape {out.shape} for a batch of shape {batch.shape} "
            f"({name}); expected [N, D]"
        )
    if not np.all(np.isfinite(out)):
        raise ValueError(f"embed_fn returned NaN/inf embeddings for {name}")
    return out.astype(np.float64)


def embed_utterances(
    embed_fn: Callable[[np.ndarray], Any],
    paths: Iterable[str],
    window_seconds: float | None = None,
    hop_seconds: float | None = None,
    *,
    root: PathLike | None = None,
    sample_rate: int = 16000,
    batch_size: int = 64,
) -> dict[str, np.ndarray]:
    """Embed each utterance once: ``{path: unit-length float32 [D] embedding}``.

    ``paths`` are the keys used in trial lists, read from ``root / path`` when
    ``root`` is given, each peak-normalised as a whole (as training does).
    Without ``window_seconds`` each whole utterance is one batch of size 1.
    With it, the utterance is cut into windows of that length
    every ``hop_seconds`` (default: half a window, i.e. 50% overlap); window
    embeddings are L2-normalised, averaged, and re-normalised so each window
    counts equally whatever its norm. ``batch_size`` bounds windows per call.
    """
    if window_seconds is None and hop_seconds is not None:
        raise ValueError("hop_seconds needs window_seconds")
    window = hop = 0
    if window_seconds is not None:
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds!r}")
        hop_seconds = window_seconds / 2 if hop_seconds is None else hop_seconds
        if not hop_seconds > 0:
            raise ValueError(f"hop_seconds must be positive, got {hop_seconds!r}")
        window = max(1, int(round(window_seconds * sample_rate)))
        hop = max(1, int(round(hop_seconds * sample_rate)))
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    base = Path(root) if root is not None else None
    out: dict[str, np.ndarray] = {}
    for key in dict.fromkeys(paths):
        file = base / key if base is not None else Path(key)
        wav = _read_audio(file, sample_rate)
        if window:
            wins = _windows(wav, window, hop)
            embs = np.concatenate(
                [
                    _embed_batch(embed_fn, wins[i : i + batch_size], key)
                    for i in range(0, wins.shape[0], batch_size)
                ]
            )
            emb = l2_normalize(embs).mean(axis=0)
        else:
            emb = _embed_batch(embed_fn, wav[None, :], key)[0]
        out[key] = l2_normalize(emb).astype(np.float32)
    return out
