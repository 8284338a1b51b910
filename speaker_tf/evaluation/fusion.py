"""Linear score fusion of two verification systems (e.g. a trained encoder and the MFCC baseline).

Each system's scores are z-normalised with the mean / std it has on a set of
calibration trials (the validation trials, never the test trials), then combined
as ``w_a * z_a + w_b * z_b + bias`` with weights from a logistic regression on
the calibration labels: the standard linear fusion of speaker-recognition
evaluations (Brümmer et al., "Fusion of heterogeneous speaker recognition
systems in the STBU submission for the NIST SRE 2006", IEEE TASLP 2007).
Because of the z-normalisation, any positive affine rescaling of one system's
scores leaves the fused ranking unchanged.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from speaker_tf.errors import SpeakerTfError

__all__ = ["Fusion", "fit_fusion", "load_fusion"]

FUSION_FILE = "fusion.json"


@dataclass(frozen=True)
class Fusion:
    """Parameters of a fitted two-system linear fusion."""

    mean_a: float
    std_a: float
    mean_b: float
    std_b: float
    weight_a: float
    weight_b: float
    bias: float
    systems: tuple[str, str] = ("embedding", "mfcc_baseline")

    def apply(self, scores_a: np.ndarray, scores_b: np.ndarray) -> np.ndarray:
        """Fused scores (log-odds scale of the calibration set) of aligned score arrays."""
        a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"fusion needs one score per trial from each system, got {a.shape}, {b.shape}")
        za = (a - self.mean_a) / self.std_a
        zb = (b - self.mean_b) / self.std_b
        return self.weight_a * za + self.weight_b * zb + self.bias

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")


def _z_stats(scores: np.ndarray, name: str) -> tuple[float, float]:
    std = float(np.std(scores))
    if not np.all(np.isfinite(scores)) or std <= 0:
        raise ValueError(f"cannot fuse: the {name} scores are constant or not finite on calibration trials")
    return float(np.mean(scores)), std


def fit_fusion(
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    labels: np.ndarray,
    systems: tuple[str, str] = ("embedding", "mfcc_baseline"),
) -> Fusion:
    """Fit z-normalisation and logistic-regression weights on calibration trials (1 = target)."""
    from sklearn.linear_model import LogisticRegression

    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64)
    if not (a.shape == b.shape == y.shape) or a.ndim != 1:
        raise ValueError(f"fusion needs aligned 1-D scores and labels, got {a.shape}, {b.shape}, {y.shape}")
    if set(np.unique(y)) != {0, 1}:
        raise ValueError("cannot fuse: the calibration trials need both target (1) and non-target (0) labels")
    (mean_a, std_a), (mean_b, std_b) = _z_stats(a, systems[0]), _z_stats(b, systems[1])
    features = np.stack([(a - mean_a) / std_a, (b - mean_b) / std_b], axis=1)
    # balanced classes: the weights should not depend on the target / non-target ratio of the list
    model = LogisticRegression(C=1e4, class_weight="balanced").fit(features, y)
    w_a, w_b = (float(w) for w in model.coef_[0])
    return Fusion(mean_a, std_a, mean_b, std_b, w_a, w_b, float(model.intercept_[0]), tuple(systems))


def load_fusion(path: str | os.PathLike) -> Fusion:
    """Read a fusion.json written by :meth:`Fusion.save` (a run directory's, or any)."""
    p = Path(path)
    if p.is_dir():
        p = p / FUSION_FILE
    if not p.is_file():
        raise SpeakerTfError(f"{str(p)!r}: no fusion parameters (expected a {FUSION_FILE} written by a run)")
    try:
        data = json.loads(p.read_text())
        data["systems"] = tuple(data.get("systems", ("embedding", "mfcc_baseline")))
        return Fusion(**data)
    except (json.JSONDecodeError, TypeError) as exc:
        raise SpeakerTfError(f"{str(p)!r}: not a fusion parameter file ({exc})") from None
