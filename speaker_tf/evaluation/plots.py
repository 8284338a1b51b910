"""DET curve and score histogram rendered to PNG bytes.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so nothing
changes the global backend and no window is ever opened.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from speaker_tf.evaluation.metrics import compute_eer, det_curve

__all__ = ["det_plot_png", "score_histogram_png"]

# Probabilities outside [_CLIP, 1 - _CLIP] are drawn at the edge: probit(0) is -inf.
_CLIP = 1e-4
_TICKS = [0.0001, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99]


def _probit(p: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(np.clip(p, _CLIP, 1.0 - _CLIP))


def _render(fig: Any, path: str | os.PathLike | None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


def _tick_label(p: float) -> str:
    return f"{100 * p:g}"


def det_plot_png(
    scores: Any,
    labels: Any,
    path: str | os.PathLike | None = None,
    *,
    title: str = "DET curve",
    dpi: int = 100,
) -> bytes:
    """DET curve (miss vs false-alarm, probit axes, percent ticks) with the EER point.

    Returns PNG bytes; also writes them to ``path`` when given.
    """
    from matplotlib.figure import Figure

    p_fa, p_miss, _ = det_curve(scores, labels)
    eer, _ = compute_eer(scores, labels)
    fig = Figure(figsize=(5, 5), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(_probit(p_fa), _probit(p_miss), lw=1.5, label="DET")
    ax.plot([_probit(np.array(eer))], [_probit(np.array(eer))], "o", label=f"EER {100 * eer:.2f}%")
    lo, hi = _probit(np.array([_CLIP, 1.0 - _CLIP]))
    ax.plot([lo, hi], [lo, hi], ":", color="gray", lw=0.8)
    ticks = _probit(np.array(_TICKS))
    names = [_tick_label(t) for t in _TICKS]
    ax.set_xticks(ticks, names, fontsize=7)
    ax.set_yticks(ticks, names, fontsize=7)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("False alarm rate (%)")
    ax.set_ylabel("Miss rate (%)")
    ax.set_title(title)
    ax.grid(True, lw=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _render(fig, path)


def score_histogram_png(
    scores: Any,
    labels: Any,
    path: str | os.PathLike | None = None,
    *,
    bins: int = 50,
    title: str = "Score distribution",
    dpi: int = 100,
) -> bytes:
    """Overlaid density histograms of target and non-target scores, as PNG bytes."""
    from matplotlib.figure import Figure

    from speaker_tf.evaluation.metrics import _validate

    s, lab = _validate(scores, labels)
    edges = np.histogram_bin_edges(s, bins=bins)
    fig = Figure(figsize=(6, 4), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(s[lab == 0], bins=edges, density=True, alpha=0.5, label=f"non-target ({int((lab == 0).sum())})")
    ax.hist(s[lab == 1], bins=edges, density=True, alpha=0.5, label=f"target ({int(lab.sum())})")
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _render(fig, path)
