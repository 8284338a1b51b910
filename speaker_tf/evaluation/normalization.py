"""Score and embedding normalisation (pure NumPy): S-norm with a cohort, per-dimension standardisation.

S-norm (symmetric normalisation; Kenny, "Bayesian speaker verification with
heavy-tailed priors", Odyssey 2010) averages a Z-norm of the score w.r.t. the
enrolment side and a T-norm w.r.t. the test side:

    s' = ((s - mu_e) / sigma_e + (s - mu_t) / sigma_t) / 2

where mu_e, sigma_e are the mean / standard deviation of the cosine scores
between the enrolment embedding and every cohort embedding (likewise for the
test side). Adaptive S-norm (AS-norm; Cumani et al., "Comparison of speaker
recognition approaches for real applications", Interspeech 2011; Matejka et al.,
"Analysis of score normalization in multilingual speaker recognition",
Interspeech 2017) uses only the ``top_n`` highest cohort scores of each side,
i.e. the cohort speakers most similar to that utterance.

Embedding standardisation (`standardise`) z-scores every embedding dimension with the mean and
standard deviation of a reference set before the cosine: the mean/variance normalisation of a
back-end trained on unlabelled data (Kaldi's x-vector recipes subtract a global mean before LDA /
PLDA; Garcia-Romero & Espy-Wilson, "Analysis of i-vector length normalization in speaker recognition
systems", Interspeech 2011, centre and whiten before length normalisation). With the evaluation set
itself as the reference it is exactly what the MFCC baseline does with its statistics
(``speaker_tf.data.baseline.score_trials``): an unsupervised adaptation to that set's domain.

Standard deviations are population ones (ddof = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from speaker_tf.evaluation.scoring import l2_normalize

__all__ = ["cohort_statistics", "s_norm", "standardise"]

_CHUNK = 2048  # rows of the [rows, cohort] score matrix held at once
_STD_FLOOR = 1e-8  # a constant reference dimension is centred, not divided by ~0


def _as_matrix(x: Any, name: str) -> np.ndarray:
    m = np.asarray(x, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"{name} must be a 2-D [N, D] array, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} contains NaN/inf")
    return m


def cohort_statistics(
    embeddings: Any, cohort: Any, top_n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each embedding's cosine scores against the (top-N) cohort.

    Rows are deduplicated first, since trial lists repeat the same enrolment and
    test utterances many times, and scored in chunks to bound memory.
    """
    emb = l2_normalize(_as_matrix(embeddings, "embeddings"))
    coh = l2_normalize(_as_matrix(cohort, "cohort"))
    if coh.shape[0] < 2:
        raise ValueError(f"cohort needs at least 2 embeddings, got {coh.shape[0]}")
    if coh.shape[1] != emb.shape[1]:
        raise ValueError(f"cohort dimension {coh.shape[1]} differs from embedding dimension {emb.shape[1]}")
    n_coh = coh.shape[0]
    if top_n is not None and not (1 <= int(top_n) <= n_coh):
        raise ValueError(f"top_n must be in [1, {n_coh}] (cohort size), got {top_n!r}")
    k = n_coh if top_n is None else int(top_n)
    uniq, inverse = np.unique(emb, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    mean = np.empty(uniq.shape[0])
    std = np.empty(uniq.shape[0])
    for i in range(0, uniq.shape[0], _CHUNK):
        sc = uniq[i : i + _CHUNK] @ coh.T
        if k < n_coh:
            sc = np.partition(sc, n_coh - k, axis=1)[:, n_coh - k :]
        mean[i : i + _CHUNK] = sc.mean(axis=1)
        std[i : i + _CHUNK] = sc.std(axis=1)
    return mean[inverse], std[inverse]


def s_norm(
    scores: Any,
    enroll_emb: Any,
    test_emb: Any,
    cohort: Any,
    top_n: int | None = None,
) -> np.ndarray:
    """S-norm (``top_n=None``) or AS-norm (``top_n=N``) of per-trial scores.

    ``scores[i]`` is the raw score of trial i, ``enroll_emb[i]`` / ``test_emb[i]``
    its two embeddings ``[T, D]``, ``cohort`` ``[C, D]`` embeddings of training
    speakers (typically one mean embedding per speaker). With ``top_n`` equal to
    the cohort size AS-norm is exactly S-norm.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    e = _as_matrix(enroll_emb, "enroll_emb")
    t = _as_matrix(test_emb, "test_emb")
    if not (e.shape[0] == t.shape[0] == s.shape[0]):
        raise ValueError(
            f"scores, enroll_emb and test_emb must have one row per trial, got "
            f"{s.shape[0]}, {e.shape[0]} and {t.shape[0]}"
        )
    mu_e, sd_e = cohort_statistics(e, cohort, top_n)
    mu_t, sd_t = cohort_statistics(t, cohort, top_n)
    eps = 1e-12
    return 0.5 * ((s - mu_e) / np.maximum(sd_e, eps) + (s - mu_t) / np.maximum(sd_t, eps))


def standardise(embeddings: Any, reference: Any) -> np.ndarray:
    """``[N, D]`` embeddings z-scored per dimension with the mean / std of ``reference`` ``[M, D]``.

    ``reference`` may be ``embeddings`` itself (the set standardises itself). A dimension constant
    over the reference is only centred (its std is floored at 1e-8), so nothing becomes NaN.
    """
    emb = _as_matrix(embeddings, "embeddings")
    ref = _as_matrix(reference, "reference")
    if ref.shape[0] < 2:
        raise ValueError(
            f"reference needs at least 2 embeddings to give a standard deviation, got {ref.shape[0]}"
        )
    if ref.shape[1] != emb.shape[1]:
        raise ValueError(
            f"reference dimension {ref.shape[1]} differs from embedding dimension {emb.shape[1]}"
        )
    return (emb - ref.mean(axis=0)) / np.maximum(ref.std(axis=0), _STD_FLOOR)
