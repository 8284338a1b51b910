"""Shared fixtures for the whole suite.

``tiny_corpus``: the synthetic corpus (8 speakers x 4 utterances, seed 0:
train 4 / val 2 / test 2 speakers, VoxCeleb layout, trials in val/ and test/)
generated once per session into a temporary folder. Treat it as read-only:
copy files elsewhere before modifying them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # lets `pytest` run from a checkout without `pip install -e .`
    sys.path.insert(0, str(_ROOT))

TINY_CORPUS_ARGS = {"speakers": 8, "utterances": 4, "seed": 0}


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny synthetic corpus: DIR/{train,val,test}/<id>/<session>/<utt>.wav + meta.json."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: run `bash install.sh --test`")
    from speaker_tf.data.synth import generate_corpus

    out = tmp_path_factory.mktemp("tiny_corpus") / "corpus"
    return generate_corpus(out, **TINY_CORPUS_ARGS, workers=1, report_baseline=False, verbose=False)
