"""Classical speaker-verification baseline: MFCC statistics + cosine scoring.

A yardstick every trained model must beat, and a sanity check that a corpus
carries speaker information at all. Per utterance:

1. peak-normalise; pre-emphasis (0.97);
2. 25 ms periodic-Hann frames every 10 ms, 512-point power spectrum;
3. 40 triangular mel filters (HTK mel scale, peak 1, 0 Hz to Nyquist), log;
4. DCT-II (orthonormal) -> 20 cepstral coefficients (Davis & Mermelstein, 1980);
5. keep frames whose energy is within 30 dB of the loudest frame (a crude
   energy VAD: leading / trailing silence says nothing about the speaker);
6. the embedding is [mean, std] of the coefficients over frames (40 values).

Embeddings are z-scored per dimension with the mean / std of all utterances
in the trial list being scored (no separate cohort: the statistics are
unsupervised and use no labels), then trials are scored by cosine similarity.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.fft import dct

from speaker_tf.data.audio import load_audio, peak_normalise, process_pool

__all__ = [
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "mfcc",
    "mfcc_stats",
    "utterance_embeddings",
    "baseline_scores",
    "baseline_eer",
]

PathLike = str | os.PathLike


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    n_fft: int = 512, sample_rate: int = 16000, n_mels: int = 40, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] triangular filters, equally spaced in mel, peak 1.

    Adjacent triangles overlap so that, between the first and last centre
    frequency, the filters sum to exactly 1 at every FFT bin.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def _frames(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    if x.shape[0] < frame:
        x = np.pad(x, (0, frame - x.shape[0]))
    n = 1 + (x.shape[0] - frame) // hop
    return np.lib.stride_tricks.sliding_window_view(x, frame)[::hop][:n]


def mfcc(
    samples: np.ndarray,
    sample_rate: int = 16000,
    n_mfcc: int = 20,
    n_mels: int = 40,
    frame_ms: float = 25.0,
    hop_ms: float = 10.0,
    preemphasis: float = 0.97,
) -> np.ndarray:
    """[frames, n_mfcc] MFCCs of a mono waveform (recipe in the module docstring)."""
    x = np.asarray(samples, dtype=np.float64)
    x = np.concatenate([x[:1], x[1:] - preemphasis * x[:-1]])
    frame = int(round(sample_rate * frame_ms / 1000))
    hop = int(round(sample_rate * hop_ms / 1000))
    n_fft = 1 << (frame - 1).bit_length()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)
    power = np.abs(np.fft.rfft(_frames(x, frame, hop) * window, n=n_fft)) ** 2
    log_mel = np.log(power @ mel_filterbank(n_fft, sample_rate, n_mels).T + 1e-10)
    return dct(log_mel, type=2, norm="ortho", axis=1)[:, :n_mfcc]


def mfcc_stats(samples: np.ndarray, sample_rate: int = 16000, vad_db: float = 30.0) -> np.ndarray:
    """40-dim utterance embedding: mean and std of MFCCs over speech frames."""
    coeffs = mfcc(peak_normalise(samples), sample_rate)
    # c0 of the orthonormal DCT is sqrt(1/n_mels) * sum(log mel energies): a loudness proxy.
    loud = coeffs[:, 0]
    keep = loud >= loud.max() - vad_db / 10 * np.log(10) * np.sqrt(40)
    if np.count_nonzero(keep) >= 2:
        coeffs = coeffs[keep]
    return np.concatenate([coeffs.mean(axis=0), coeffs.std(axis=0)]).astype(np.float64)


def _embed_one(path: str) -> np.ndarray:
    return mfcc_stats(load_audio(path, 16000, mono="mix"), 16000)


def utterance_embeddings(paths: Sequence[PathLike], workers: int | None = None) -> np.ndarray:
    """[N, 40] MFCC-statistics embeddings of the given files (parallel)."""
    names = [str(p) for p in paths]
    if not names:
        return np.zeros((0, 40))
    with process_pool(workers) as pool:
        rows = list(pool.map(_embed_one, names, chunksize=max(1, len(names) // 64)))
    return np.stack(rows)


def baseline_scores(
    trials_path: PathLike, root: PathLike, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(cosine scores, labels) of the MFCC baseline on a trial list under ``root``."""
    from speaker_tf.data.corpus import read_trial_list

    trials = read_trial_list(trials_path, root)
    labels = np.asarray([t.label for t in trials], dtype=np.int64)
    return score_trials(trials, root, workers), labels


def score_trials(
    trials: Sequence,
    root: PathLike,
    workers: int | None = None,
    cache: dict[str, np.ndarray] | None = None,
    dims: slice = slice(None),
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Cosine scores of z-scored MFCC statistics for ``Trial`` objects whose paths are under ``root``.

    ``cache`` (file path -> raw statistics) is read and filled, so that trial lists sharing files compute
    each file once. The z-scoring is over this list's utterances, or with the statistics of ``reference``
    (``[M, 40]`` raw statistics of other files, e.g. training utterances) when given. ``dims`` scores on
    some of the 40 statistics only (``slice(0, 20)``: the MFCC means, ``slice(20, 40)``: their standard
    deviations).
    """
    from speaker_tf.evaluation.normalization import standardise
    from speaker_tf.evaluation.scoring import cosine_scores, trial_utterances

    utts = trial_utterances(trials)
    paths = [str(Path(root) / u) for u in utts]
    cache = {} if cache is None else cache
    missing = [p for p in dict.fromkeys(paths) if p not in cache]
    cache.update(zip(missing, utterance_embeddings(missing, workers), strict=True))
    if not paths:
        return np.zeros((0,), dtype=np.float64)
    emb = np.stack([cache[p][dims] for p in paths])
    emb = standardise(emb, emb if reference is None else np.asarray(reference)[:, dims])
    return cosine_scores(dict(zip(utts, emb, strict=True)), trials)


def baseline_eer(trials_path: PathLike, root: PathLike, workers: int | None = None) -> float:
    """EER (fraction in [0, 1]) of the MFCC baseline on a trial list under ``root``."""
    from speaker_tf.evaluation.metrics import compute_eer

    scores, labels = baseline_scores(trials_path, root, workers)
    return compute_eer(scores, labels)[0]
