"""Identification accuracy, clustering scores, and PNG plots."""

from __future__ import annotations

import io

import numpy as np
import pytest

from speaker_tf.evaluation.identification import closed_set_identification, clustering_scores, top1_accuracy
from speaker_tf.evaluation.plots import det_plot_png, score_histogram_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _clusters(n_speakers=4, per=6, dim=8, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:n_speakers] * 3.0
    labels = np.repeat(np.arange(n_speakers), per)
    return centres[labels] + noise * rng.normal(size=(len(labels), dim)), labels


def test_top1_accuracy():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert top1_accuracy(logits, [1, 0, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="labels must be in"):
        top1_accuracy(logits, [1, 0, 2])


@pytest.mark.parametrize("method", ["kmeans", "agglomerative"])
def test_perfect_clusters_score_one(method):
    x, y = _clusters()
    res = clustering_scores(x, y, method=method)
    for key in ("homogeneity", "completeness", "v_measure", "ari", "ami"):
        assert res[key] == pytest.approx(1.0), key
    assert res["silhouette"] > 0.9


def test_silhouette_uses_true_labels_with_cosine():
    from sklearn.metrics import silhouette_score

    x, y = _clusters(noise=0.8, seed=1)
    res = clustering_scores(x, y)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert res["silhouette"] == pytest.approx(silhouette_score(xn, y, metric="cosine"))


def test_closed_set_identification():
    x, y = _clusters(noise=0.3, seed=2)
    assert closed_set_identification(x[::2], y[::2], x[1::2], y[1::2]) == 1.0
    # swapping two speakers' test labels makes exactly their trials wrong
    y_test = y[1::2].copy()
    y_test = np.where(y_test == 0, 1, np.where(y_test == 1, 0, y_test))
    assert closed_set_identification(x[::2], y[::2], x[1::2], y_test) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not enrolled"):
        closed_set_identification(x[::2], y[::2], x[1::2], y[1::2] + 10)


def _decode(png: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_det_and_histogram_png(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=200)
    scores = rng.normal(size=200) + 2 * labels
    scores[0] = 100.0  # extreme values are clipped on the probit axes, not crash
    png = det_plot_png(scores, labels, tmp_path / "det.png")
    assert png.startswith(PNG_SIGNATURE)
    assert (tmp_path / "det.png").read_bytes() == png
    img = _decode(png)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    hist = score_histogram_png(scores, labels)
    assert hist.startswith(PNG_SIGNATURE)
    assert _decode(hist).ndim == 3


def test_det_png_perfect_separation_does_not_crash():
    png = det_plot_png([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])
    assert png.startswith(PNG_SIGNATURE)
