"""End of a run: EER / minDCF on unseen test speakers, the MFCC baseline on the same trials, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from speaker_tf.config.base import ExperimentConfig
from speaker_tf.data.baseline import score_trials
from speaker_tf.evaluation.identification import closed_set_identification, clustering_scores
from speaker_tf.evaluation.metrics import compute_eer, verification_report
from speaker_tf.evaluation.scoring import (
    cosine_scores,
    embed_utterances,
    trial_utterances,
    write_score_file,
)
from speaker_tf.training.run_dir import RunDir
from speaker_tf.training.splits import RunData, Split


def embed_split(encoder: keras.Model, split: Split, config: ExperimentConfig) -> dict[str, np.ndarray]:
    """One embedding per utterance of the split's trials: the mean over fixed windows."""
    seconds = config.data.eval_seconds or None
    return embed_utterances(
        lambda batch: encoder.predict_on_batch(batch),
        trial_utterances(split.trials),
        window_seconds=seconds,
        root=split.root,
        sample_rate=config.data.sample_rate,
    )


def score_split(
    encoder: keras.Model, split: Split, config: ExperimentConfig
) -> tuple[np.ndarray, np.ndarray, dict]:
    embeddings = embed_split(encoder, split, config)
    labels = np.array([t.label for t in split.trials])
    return cosine_scores(embeddings, split.trials), labels, embeddings


def _headline(prefix: str, report: dict) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in report.items() if k in ("eer", "min_dcf_p01", "min_dcf_p05")}


def baseline(split: Split, scores: np.ndarray | None = None) -> dict[str, float]:
    """The classical MFCC-statistics baseline on the same trials."""
    scores = score_trials(split.trials, split.root) if scores is None else scores
    return _headline("baseline", verification_report(scores, np.array([t.label for t in split.trials])))


def fuse_with_baseline(
    val: tuple[np.ndarray, np.ndarray, Split], test: tuple[np.ndarray, np.ndarray, Split], run: RunDir
) -> dict[str, float]:
    """Fit the encoder + MFCC-baseline fusion on validation trials, save it, report it on the test trials.

    Reported apart from the encoder's own figures: it is a different system.
    """
    from speaker_tf.evaluation.fusion import FUSION_FILE, fit_fusion

    (val_scores, val_labels, val_split), (test_scores, test_labels, test_split) = val, test
    test_baseline = score_trials(test_split.trials, test_split.root)
    fusion = fit_fusion(val_scores, score_trials(val_split.trials, val_split.root), val_labels)
    fusion.save(run.path / FUSION_FILE)
    fused = _headline("fused", verification_report(fusion.apply(test_scores, test_baseline), test_labels))
    return {
        **baseline(test_split, test_baseline),
        **fused,
        "fusion_weights": [fusion.weight_a, fusion.weight_b],
    }


def identification(embeddings: dict[str, np.ndarray]) -> dict[str, float]:
    """Closed-set top-1 (first half of each speaker's utterances enrolled) and clustering scores."""
    names = sorted(embeddings)
    speakers = np.array([n.split("/")[0] for n in names])
    emb = np.stack([embeddings[n] for n in names])
    enroll = np.zeros(len(names), dtype=bool)
    for s in np.unique(speakers):
        idx = np.flatnonzero(speakers == s)
        enroll[idx[: max(1, len(idx) // 2)]] = True
    test = ~enroll & np.isin(speakers, speakers[enroll])
    results = {
        "identification_accuracy": closed_set_identification(
            emb[enroll], speakers[enroll], emb[test], speakers[test]
        )
    }
    results.update({f"cluster_{k}": v for k, v in clustering_scores(emb, speakers).items()})
    return results


def final(encoder: keras.Model, config: ExperimentConfig, data: RunData, run: RunDir) -> dict[str, Any]:
    """Metrics of the finished model (EMA weights when EMA is on); saves the encoder."""
    encoder.save(run.encoder_file)
    val_scores, val_labels, _ = score_split(encoder, data.val, config)
    val_eer, threshold = compute_eer(val_scores, val_labels)
    test_scores, test_labels, test_embeddings = score_split(encoder, data.test, config)
    results: dict[str, Any] = {"val_eer": val_eer, "eer_threshold": threshold}
    results.update(verification_report(test_scores, test_labels))
    results.update(
        fuse_with_baseline((val_scores, val_labels, data.val), (test_scores, test_labels, data.test), run)
    )
    results.update(identification(test_embeddings))
    results["test_trials"] = len(data.test.trials)
    results["min_samples"] = int(getattr(encoder, "min_samples", 0) or 0)
    write_score_file(run.path / "test_scores.txt", test_scores, data.test.trials)
    return results


def export(encoder: keras.Model, config: ExperimentConfig, results: dict[str, Any], run: RunDir) -> Path:
    """SavedModel for TF Serving under RUN/export/<experiment>/<version>/."""
    from speaker_tf.export.saved_model import export_encoder

    path = export_encoder(
        encoder,
        run.export_base,
        config.name,
        threshold=float(results["eer_threshold"]),
        val_eer=float(results["val_eer"]),
        min_samples=max(int(results["min_samples"]), 1),
        window_seconds=config.data.eval_seconds or 2.0,
        hop_seconds=(config.data.eval_seconds or 2.0) / 2,
        sample_rate=config.data.sample_rate,
    )
    print(f"exported SavedModel: {path}")
    return path
