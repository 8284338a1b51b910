"""Closed-set identification accuracy and clustering quality of embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np

from speaker_tf.evaluation.scoring import l2_normalize

__all__ = ["top1_accuracy", "clustering_scores", "closed_set_identification"]


def top1_accuracy(logits_or_scores: Any, labels: Any) -> float:
    """Fraction of rows whose arg-max column equals the integer label."""
    x = np.asarray(logits_or_scores)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 2:
        raise ValueError(f"logits_or_scores must be [N, classes], got shape {x.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{x.shape[0]} rows of scores but {y.shape[0]} labels")
    if x.shape[0] == 0:
        raise ValueError("no rows to score")
    if y.min() < 0 or y.max() >= x.shape[1]:
        raise ValueError(f"labels must be in [0, {x.shape[1] - 1}], got range [{y.min()}, {y.max()}]")
    return float(np.mean(np.argmax(x, axis=1) == y))


def clustering_scores(
    embeddings: Any,
    labels: Any,
    n_clusters: int | None = None,
    seed: int = 0,
    method: str = "kmeans",
) -> dict[str, float]:
    """How well unsupervised clusters of the embeddings recover speakers.

    Embeddings are L2-normalised (so Euclidean k-means approximates cosine
    clustering). ``method`` is ``"kmeans"`` or ``"agglomerative"`` (average
    linkage, cosine distance). ``n_clusters`` defaults to the number of
    speakers. Returns homogeneity, completeness, v_measure, ari, ami, and the
    silhouette of the *true* labels under cosine distance (NaN when undefined,
    i.e. fewer than 2 or more than N-1 speakers).
    """
    from sklearn import cluster, metrics

    x = np.asarray(embeddings, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"embeddings [N, D] and labels [N] disagree: {x.shape} vs {y.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embeddings contain NaN/inf")
    x = l2_normalize(x)
    n_speakers = len(np.unique(y))
    k = n_speakers if n_clusters is None else int(n_clusters)
    if not 1 <= k <= x.shape[0]:
        raise ValueError(f"n_clusters must be in [1, {x.shape[0]}], got {k}")
    if method == "kmeans":
        pred = cluster.KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    elif method == "agglomerative":
        pred = cluster.AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(
            x
        )
    else:
        raise ValueError(f"method must be 'kmeans' or 'agglomerative', got {method!r}")
    h, c, v = metrics.homogeneity_completeness_v_measure(y, pred)
    if 2 <= n_speakers <= x.shape[0] - 1:
        sil = float(metrics.silhouette_score(x, y, metric="cosine"))
    else:
        sil = float("nan")
    return {
        "homogeneity": float(h),
        "completeness": float(c),
        "v_measure": float(v),
        "ari": float(metrics.adjusted_rand_score(y, pred)),
        "ami": float(metrics.adjusted_mutual_info_score(y, pred)),
        "silhouette": sil,
    }


def closed_set_identification(enroll_emb: Any, enroll_labels: Any, test_emb: Any, test_labels: Any) -> float:
    """Top-1 accuracy of assigning each test embedding to the nearest speaker centroid.

    Each speaker's centroid is the mean of its L2-normalised enrolment
    embeddings; similarity is cosine. Every test speaker must be enrolled
    (closed set), otherwise ValueError names the missing label.
    """
    e = l2_normalize(np.asarray(enroll_emb, dtype=np.float64))
    t = l2_normalize(np.asarray(test_emb, dtype=np.float64))
    el = np.asarray(enroll_labels).reshape(-1)
    tl = np.asarray(test_labels).reshape(-1)
    if e.ndim != 2 or e.shape[0] != el.shape[0]:
        raise ValueError(f"enroll_emb {e.shape} and enroll_labels {el.shape} disagree")
    if t.ndim != 2 or t.shape[0] != tl.shape[0]:
        raise ValueError(f"test_emb {t.shape} and test_labels {tl.shape} disagree")
    if t.shape[0] == 0:
        raise ValueError("no test embeddings")
    if e.shape[1] != t.shape[1]:
        raise ValueError(f"enrolment dimension {e.shape[1]} differs from test dimension {t.shape[1]}")
    speakers, inverse = np.unique(el, return_inverse=True)
    missing = np.setdiff1d(np.unique(tl), speakers)
    if missing.size:
        raise ValueError(f"test speaker(s) not enrolled: {missing[:5].tolist()}")
    centroids = np.zeros((speakers.shape[0], e.shape[1]))
    np.add.at(centroids, inverse.reshape(-1), e)
    centroids = l2_normalize(centroids)
    pred = speakers[np.argmax(t @ centroids.T, axis=1)]
    return float(np.mean(pred == tl))
