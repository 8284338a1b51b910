"""Evaluation-only data: the MFCC baseline's per-file cache used by benchmarks/generalisation.py, and the
EVALUATION_ONLY marker that keeps a scoring folder out of training."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_tf.data.baseline import score_trials


def test_an_evaluation_only_folder_and_every_folder_below_it_is_refused_for_training(tmp_path):
    from speaker_tf.config.data import DataConfig
    from speaker_tf.data.corpus import EVALUATION_ONLY
    from speaker_tf.errors import CorpusError
    from speaker_tf.training.splits import resolve_corpus_root

    marked = tmp_path / "scoring"
    (marked / "test" / "spk1").mkdir(parents=True)
    (marked / EVALUATION_ONLY).write_text("score it, do not train on it\n")
    for root in (marked, marked / "test", marked / "test" / "spk1"):
        with pytest.raises(CorpusError, match=r"evaluation-only.*EVALUATION_ONLY"):
            resolve_corpus_root(DataConfig(root=str(root)))
    assert resolve_corpus_root(DataConfig(root=str(tmp_path))) == tmp_path  # the folder above is not marked


def test_mfcc_cache_gives_the_same_scores_and_computes_each_file_once(tmp_path, monkeypatch):
    import soundfile as sf

    from speaker_tf.data import baseline
    from speaker_tf.evaluation.scoring import Trial

    rng = np.random.default_rng(0)
    for k in range(4):
        sf.write(tmp_path / f"{k}.wav", rng.normal(0, 0.1, 8000).astype(np.float32), 16000)
    first = [Trial(1, "0.wav", "1.wav"), Trial(0, "0.wav", "2.wav")]
    second = [Trial(0, "1.wav", "3.wav"), Trial(1, "2.wav", "3.wav"), Trial(0, "0.wav", "3.wav")]
    plain = [score_trials(t, tmp_path, workers=1) for t in (first, second)]

    seen: list[str] = []
    real = baseline.utterance_embeddings
    monkeypatch.setattr(
        baseline, "utterance_embeddings", lambda paths, workers=None: (seen.extend(paths), real(paths, 1))[1]
    )
    cache: dict = {}
    cached = [baseline.score_trials(t, tmp_path, workers=1, cache=cache) for t in (first, second)]
    for a, b in zip(plain, cached, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert sorted(seen) == sorted(str(tmp_path / f"{k}.wav") for k in range(4))  # each file once

    # dims: the scores of the means alone, by hand: z-score the 20 means over the list's files, cosine
    means = baseline.score_trials(second, tmp_path, workers=1, cache=cache, dims=slice(0, 20))
    files = ["1.wav", "3.wav", "2.wav", "0.wav"]  # the list's utterances
    stats = np.stack([cache[str(tmp_path / f)][:20] for f in files])
    z = (stats - stats.mean(axis=0)) / stats.std(axis=0)
    row = {f: z[i] / np.linalg.norm(z[i]) for i, f in enumerate(files)}
    np.testing.assert_allclose(means, [row[t.enroll] @ row[t.test] for t in second], rtol=1e-9)
    assert sorted(seen) == sorted(str(tmp_path / f"{k}.wav") for k in range(4))  # still computed once


def test_generalisation_benchmark_refuses_a_bad_trial_list_before_doing_anything(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "generalisation.py"
    lists = tmp_path / "mine.txt"
    lists.write_text("1 a/1.wav a/2.wav\n")
    out = tmp_path / "out"
    for args, message in (
        (["--trials", "mine"], "--trials 'mine': expected NAME=TRIAL_LIST"),
        (["--trials", f"mine={tmp_path / 'missing.txt'}"], "with an existing trial list file"),
        (["--trials", f"held-out={lists}"], "the row name 'held-out' is already taken"),
        (["--trials", f"mine={lists}", "--trials", f"mine={lists}"], "the row name 'mine' is already taken"),
    ):
        command = [sys.executable, str(script), "--out", str(out), *args]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-2000:]
        assert not out.exists()  # refused before generating the held-out corpus
