"""Verification and identification evaluation.

EER / minDCF / DET are pure NumPy (:mod:`.metrics`); scoring, score files and
score normalisation need no TensorFlow either. :mod:`.callback` (Keras) and
:mod:`.embedder` (TensorFlow/Keras) are imported explicitly where needed.
"""

from speaker_tf.evaluation.metrics import compute_eer, compute_min_dcf, det_curve, verification_report
from speaker_tf.evaluation.scoring import (
    Trial,
    cosine_scores,
    embed_utterances,
    read_score_file,
    read_trials,
    write_score_file,
)

__all__ = [
    "Trial",
    "compute_eer",
    "compute_min_dcf",
    "cosine_scores",
    "det_curve",
    "embed_utterances",
    "read_score_file",
    "read_trials",
    "verification_report",
    "write_score_file",
]
