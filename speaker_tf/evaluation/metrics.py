"""Verification metrics (EER, minDCF, DET) as pure NumPy functions.

Conventions used throughout:

* labels: 1 = target trial (same speaker), 0 = non-target trial.
* decision rule: a trial is *accepted* when ``score >= threshold``.
* operating points: one per distinct score value (identical scores are one
  threshold, so ties are never split), plus a final "reject everything"
  point whose threshold is the next float above the largest score. The first
  point (threshold = smallest score) is "accept everything".

So ``p_miss`` rises from 0 to 1 and ``p_fa`` falls from 1 to 0 as the
threshold rises, both as step functions of the threshold.

This module deliberately imports nothing but NumPy so it can score files on
machines without TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "compute_eer",
    "compute_min_dcf",
    "det_curve",
    "verification_report",
]


def _validate(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (float64 scores, int8 labels) or raise ValueError naming the problem."""
    s = np.asarray(scores)
    lab = np.asarray(labels)
    if s.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {np.shape(scores)}")
    if lab.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {np.shape(labels)}")
    if s.shape[0] != lab.shape[0]:
        raise ValueError(f"scores and labels differ in length: {s.shape[0]} scores vs {lab.shape[0]} labels")
    try:
        s = s.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numeric: {exc}") from None
    bad = ~np.isfinite(s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"scores contain {int(bad.sum())} NaN/inf value(s); first at index {i}: {s[i]!r}")
    if lab.dtype == bool:
        lab = lab.astype(np.int8)
    try:
        labf = lab.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"labels must be 0 (non-target) or 1 (target), got {lab[:5]!r}") from None
    not01 = (labf != 0) & (labf != 1)
    if not01.any():
        i = int(np.flatnonzero(not01)[0])
        raise ValueError(f"labels must be 0 (non-target) or 1 (target); index {i} has {lab[i]!r}")
    lab = labf.astype(np.int8)
    n_tar = int(lab.sum())
    if n_tar == 0:
        raise ValueError(f"no target trials (label 1) among {lab.shape[0]} trials")
    if n_tar == lab.shape[0]:
        raise ValueError(f"no non-target trials (label 0) among {lab.shape[0]} trials")
    return s, lab


def _operating_points(s: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_fa, p_miss, thresholds) for validated inputs, thresholds ascending."""
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    l_sorted = lab[order].astype(np.int64)
    # First position of each distinct value: every score equal to it sits at or after it,
    # so counting labels strictly before it counts trials with score < threshold.
    thresholds, first = np.unique(s_sorted, return_index=True)
    tar_cum = np.concatenate([[0], np.cumsum(l_sorted)])
    non_cum = np.concatenate([[0], np.cumsum(1 - l_sorted)])
    n_tar = tar_cum[-1]
    n_non = non_cum[-1]
    tar_below = np.append(tar_cum[first], n_tar)
    non_below = np.append(non_cum[first], n_non)
    thresholds = np.append(thresholds, np.nextafter(thresholds[-1], np.inf))
    p_miss = tar_below / n_tar
    p_fa = (n_non - non_below) / n_non
    return p_fa, p_miss, thresholds


def det_curve(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All operating points ``(p_fa, p_miss, thresholds)``, thresholds ascending.

    ``p_fa[i]`` / ``p_miss[i]`` are the false-accept and miss rates when accepting
    ``score >= thresholds[i]``. The first point accepts everything (1, 0) and the
    last rejects everything (0, 1), so minima over the curve include both extremes.
    """
    s, lab = _validate(scores, labels)
    return _operating_points(s, lab)


def compute_eer(scores: Any, labels: Any) -> tuple[float, float]:
    """Equal error rate (a fraction in [0, 1]) and the threshold nearest to it.

    Definition: the DET/ROC curve is the polyline through the exact operating
    points of :func:`det_curve`. ``d = p_fa - p_miss`` falls monotonically from
    +1 to -1 along it; the EER is where the polyline crosses ``p_fa == p_miss``,
    found by linear interpolation between the two neighbouring operating points
    where ``d`` changes sign. Linear interpolation (rather than "average of p_fa
    and p_miss where |d| is minimal") is used because any point on the segment
    is achievable by randomly choosing between the two thresholds, so the value
    is independent of how coarse the score steps are and is exact for ties:
    e.g. all-identical scores give 0.5, not 0 or 1.

    The returned threshold is that of whichever of the two neighbouring
    operating points lies closer to the crossing (smaller ``|d|``; the lower
    threshold on a tie), so ``score >= threshold`` reproduces an achievable
    operating point next to the EER.
    """
    s, lab = _validate(scores, labels)
    p_fa, p_miss, thr = _operating_points(s, lab)
    d = p_fa - p_miss
    # d[0] = 1 > 0 and d[-1] = -1 < 0, so a sign change always exists.
    k = int(np.flatnonzero(d > 0)[-1])  # last point with p_fa > p_miss
    if d[k + 1] == 0.0:
        return float(p_fa[k + 1]), float(thr[k + 1])
    alpha = d[k] / (d[k] - d[k + 1])
    eer = p_fa[k] + alpha * (p_fa[k + 1] - p_fa[k])
    j = k if abs(d[k]) <= abs(d[k + 1]) else k + 1
    return float(eer), float(thr[j])


def compute_min_dcf(
    scores: Any,
    labels: Any,
    p_target: float = 0.01,
    c_miss: float = 1.0,
    c_fa: float = 1.0,
) -> tuple[float, float]:
    """Minimum normalised detection cost over all thresholds, and its threshold.

    DCF = c_miss * P_miss * p_target + c_fa * P_fa * (1 - p_target), divided by
    the cost of the best trivial system, min(c_miss * p_target, c_fa * (1 - p_target)),
    as in the NIST SRE evaluation plans and the VoxCeleb challenge. The minimum
    includes accept-all and reject-all, so the result is at most 1. On equal
    cost the lowest threshold wins.
    """
    if not 0.0 < p_target < 1.0:
        raise ValueError(f"p_target must be in (0, 1), got {p_target!r}")
    if not (c_miss > 0 and c_fa > 0):
        raise ValueError(f"c_miss and c_fa must be positive, got c_miss={c_miss!r}, c_fa={c_fa!r}")
    s, lab = _validate(scores, labels)
    p_fa, p_miss, thr = _operating_points(s, lab)
    dcf = c_miss * p_miss * p_target + c_fa * p_fa * (1.0 - p_target)
    dcf = dcf / min(c_miss * p_target, c_fa * (1.0 - p_target))
    i = int(np.argmin(dcf))
    return float(dcf[i]), float(thr[i])


def verification_report(scores: Any, labels: Any) -> dict[str, float | int]:
    """EER and minDCF at p_target 0.01 and 0.05 (c_miss = c_fa = 1) in one dict.

    Keys: ``eer``, ``eer_threshold``, ``min_dcf_p01``, ``min_dcf_p01_threshold``,
    ``min_dcf_p05``, ``min_dcf_p05_threshold``, ``n_target``, ``n_nontarget``.
    EER is a fraction (multiply by 100 for percent).
    """
    s, lab = _validate(scores, labels)
    eer, eer_thr = compute_eer(s, lab)
    dcf1, thr1 = compute_min_dcf(s, lab, p_target=0.01)
    dcf5, thr5 = compute_min_dcf(s, lab, p_target=0.05)
    n_tar = int(lab.sum())
    return {
        "eer": eer,
        "eer_threshold": eer_thr,
        "min_dcf_p01": dcf1,
        "min_dcf_p01_threshold": thr1,
        "min_dcf_p05": dcf5,
        "min_dcf_p05_threshold": thr5,
        "n_target": n_tar,
        "n_nontarget": int(lab.shape[0] - n_tar),
    }
