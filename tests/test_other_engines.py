"""The other-engine test corpus (benchmarks/other_engines.py) and the rule that keeps those engines out.

The engines themselves are not installed in CI (they are evaluation-only, `install.sh --eval-engines`), so the
corpus builder is checked with a stand-in synthesiser; what it must get right is the layout and the trials.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from speaker_tf.data.baseline import score_trials
from speaker_tf.evaluation.scoring import read_trials

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("other_engines", ROOT / "benchmarks" / "other_engines.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_no_module_of_the_package_runs_another_engine():
    # the training-corpus rule: festival, flite and MBROLA are for measuring only; no code under speaker_tf/
    # may name their programs in a string (a command line) -- comments and docstrings may mention them
    banned = ("text2wave", "festival", "flite", "mbrola", "mb-")
    for path in (ROOT / "speaker_tf").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                lowered = node.value.lower()
                assert not any(word in lowered for word in banned), f"{path}:{node.lineno}: {node.value!r}"


def test_corpus_layout_and_trials_with_a_stand_in_engine(tmp_path, monkeypatch):
    bench = _load_benchmark()
    voices = [
        bench.Voice("festival", "a_diphone", "festival-diphone"),
        bench.Voice("festival", "b_diphone", "festival-diphone"),
        bench.Voice("festival", "c_hts", "festival-hts"),
        bench.Voice("flite", "d", "flite"),
        bench.Voice("flite", "e", "flite"),
    ]
    monkeypatch.setattr(bench, "available_voices", lambda: voices)
    calls = []

    def fake(voice, text, path):  # a different tone per voice, so files differ
        calls.append((voice.speaker, text))
        f = 100 + 50 * voices.index(voice)
        return (0.5 * np.sin(2 * np.pi * f * np.arange(8000) / 16000)).astype(np.float32)

    monkeypatch.setattr(bench, "synthesise", fake)
    test = bench.generate(tmp_path / "engines", utterances=4)

    assert sorted(p.name for p in test.iterdir() if p.is_dir()) == sorted(v.speaker for v in voices)
    assert all(len(list((test / v.speaker).glob("*.wav"))) == 4 for v in voices)
    # each voice reads 4 different sentences
    for v in voices:
        assert len({t for s, t in calls if s == v.speaker}) == 4
    family = {v.speaker: v.family for v in voices}

    everything = read_trials(test / "trials.txt")
    targets = [t for t in everything if t.label == 1]
    # all 5 x C(4, 2) = 30 target pairs, as many non-targets, no pair twice, no self-pair
    assert len(targets) == 30 and len(everything) == 60
    assert len({frozenset((t.enroll, t.test)) for t in everything}) == 60
    for t in everything:
        assert (t.enroll.split("/")[0] == t.test.split("/")[0]) == (t.label == 1) and t.enroll != t.test

    same = read_trials(test / "trials_same_engine.txt")
    non = [t for t in same if t.label == 0]
    assert non and all(family[t.enroll.split("/")[0]] == family[t.test.split("/")[0]] for t in non)
    # (a diphone and a flite pair exist in the unrestricted list, so the restriction did something)
    assert any(
        family[t.enroll.split("/")[0]] != family[t.test.split("/")[0]] for t in everything if t.label == 0
    )

    # the folder is marked evaluation-only: training refuses it (and every folder below it) as a data root
    from speaker_tf.config.data import DataConfig
    from speaker_tf.errors import CorpusError
    from speaker_tf.training.splits import resolve_corpus_root

    for root in (tmp_path / "engines", test, test / voices[0].speaker):
        with pytest.raises(CorpusError, match=r"evaluation-only.*EVALUATION_ONLY"):
            resolve_corpus_root(DataConfig(root=str(root)))
    assert resolve_corpus_root(DataConfig(root=str(tmp_path))) == tmp_path  # the folder above is not marked

    # a finished folder is reused, not synthesised again
    n = len(calls)
    assert bench.generate(tmp_path / "engines", utterances=4) == test and len(calls) == n
    assert json.loads((test / "done.json").read_text())["settings"]["utterances"] == 4


def test_too_few_voices_names_the_install_step(tmp_path, monkeypatch):
    bench = _load_benchmark()
    monkeypatch.setattr(bench, "available_voices", lambda: [])
    with pytest.raises(SystemExit, match="install.sh --eval-engines"):
        bench.generate(tmp_path / "engines")


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
