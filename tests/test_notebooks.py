"""Every notebook runs top to bottom on tiny data, and is committed without outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 600
# quick profile, shrunk further (the tiny corpus has 4 training speakers): a few steps exercise every cell
TINY_RUN = "data.speakers_per_batch=4;train.epochs=1;train.steps_per_epoch=3;train.validation_trials=40"


def test_every_notebook_is_committed_without_outputs():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "explore_corpus.ipynb", "embeddings.ipynb"}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: {cell.id}"


def _execute(name: str, cwd: Path, monkeypatch, **env: str) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel (which inherits this environment) from `cwd`."""
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))  # the kernel imports this checkout
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend makes the figures
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError naming the cell on any error
    return nb


def _outputs(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    return [
        out["data"][mime]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if mime in out.get("data", {})
    ]


@pytest.fixture(scope="module")
def quickstart(tiny_corpus, tmp_path_factory):
    """The quick start, executed; its run directory feeds the embeddings notebook."""
    cwd = tmp_path_factory.mktemp("quickstart")
    with pytest.MonkeyPatch.context() as monkeypatch:
        nb = _execute(
            "quickstart.ipynb",
            cwd,
            monkeypatch,
            SPEAKER_TF_CORPUS=str(tiny_corpus),
            SPEAKER_TF_NOTEBOOK_SET=TINY_RUN,
            SPEAKER_TF_DATA=str(cwd / "data"),
        )
    (run,) = (cwd / "runs" / "exp_122").iterdir()
    return nb, run


@pytest.mark.slow
def test_quickstart_runs_and_shows_the_det_curve(quickstart):
    nb, run = quickstart
    metrics = json.loads((run / "metrics.json").read_text())
    assert json.loads((run / "config.json").read_text())["train"]["steps_per_epoch"] == 3
    assert 0.0 <= metrics["eer"] <= 1.0
    assert len(_outputs(nb, "image/png")) == 1  # the DET curve
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "threshold" in printed


@pytest.mark.slow
def test_explore_corpus_shows_speakers_and_every_augmentation(tiny_corpus, tmp_path, monkeypatch):
    nb = _execute(
        "explore_corpus.ipynb",
        tmp_path,
        monkeypatch,
        SPEAKER_TF_CORPUS=str(tiny_corpus),
        SPEAKER_TF_NOTEBOOK_SPEAKERS="2",
    )
    assert len(_outputs(nb, "image/png")) == 2  # speakers figure, augmentations figure
    players = [html for html in _outputs(nb, "text/html") if "<audio" in html]
    # 2 speakers + clean, smoothing, noise, gain and one per augmentation policy (2 today)
    assert len(players) >= 2 + 4 + 2
    titles = "".join("".join(md) for md in _outputs(nb, "text/markdown"))
    assert "policy 'datapp'" in titles and "policy 'clean_one_two'" in titles


@pytest.mark.slow
def test_embeddings_notebook_on_an_export(quickstart, tiny_corpus, tmp_path, monkeypatch):
    _, run = quickstart
    nb = _execute(
        "embeddings.ipynb",
        tmp_path,
        monkeypatch,
        SPEAKER_TF_EXPORT=str(run / "export" / "exp_122"),
        SPEAKER_TF_CORPUS=str(tiny_corpus),
    )
    assert not (tmp_path / "runs").exists()  # an export was given: nothing trained
    assert len(_outputs(nb, "image/png")) == 3  # t-SNE, DET, histograms
    markdown = "".join("".join(md) for md in _outputs(nb, "text/markdown"))
    # the 3 highest-scoring non-target and 3 lowest-scoring target trials, two players each
    assert markdown.count("score ") == 6
    assert sum("<audio" in html for html in _outputs(nb, "text/html")) == 12
