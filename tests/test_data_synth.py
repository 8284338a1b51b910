"""Synthetic corpus: determinism, splits, trials, distinct voices, format, refusal to overwrite."""

from __future__ import annotations

import argparse
import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.cli import synth as synth_cli
from speaker_tf.data import espeak, synth
from speaker_tf.errors import CorpusError

TINY_CORPUS_ARGS = {"speakers": 8, "utterances": 4, "seed": 0}  # as in conftest.tiny_corpus


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_split_sizes():
    assert synth.split_sizes(260) == (200, 20, 40)
    assert synth.split_sizes(6) == (2, 2, 2)
    for n in range(6, 400):
        sizes = synth.split_sizes(n)
        assert sum(sizes) == n and min(sizes) >= 2
    with pytest.raises(ValueError, match="--speakers 5"):
        synth.split_sizes(5)


def test_sentences_are_many_and_distinct():
    sentences = synth.load_sentences()
    assert len(sentences) >= 300
    assert len(set(sentences)) == len(sentences)
    assert all(s.isascii() and 5 <= len(s.split()) <= 25 for s in sentences)


def test_speaker_voices_differ_and_are_deterministic():
    voices = [synth.speaker_voice(0, i) for i in range(50)]
    texts = {espeak.variant_text("v", v["variant"]) for v in voices}
    assert len(texts) == 50
    assert synth.speaker_voice(0, 7) == voices[7]
    assert synth.speaker_voice(1, 7) != voices[7]
    assert {v["accent"] for v in voices} == set(espeak.ACCENTS)


def test_byte_identical_across_worker_counts(tiny_corpus, tmp_path):
    # tiny_corpus was generated with workers=1; regenerate with 2 processes.
    other = synth.generate_corpus(
        tmp_path / "c", **TINY_CORPUS_ARGS, workers=2, report_baseline=False, verbose=False
    )
    a, b = _tree(tiny_corpus), _tree(other)
    assert a.keys() == b.keys()
    assert len([k for k in a if k.endswith(".wav")]) == 32
    assert [k for k in a if a[k] != b[k]] == []


def test_layout_format_and_disjoint_splits(tiny_corpus):
    meta = json.loads((tiny_corpus / "meta.json").read_text())
    assert meta["arguments"] == TINY_CORPUS_ARGS
    splits = {name: set(meta["splits"][name]) for name in synth.SPLITS}
    for a, b in combinations(synth.SPLITS, 2):
        assert not splits[a] & splits[b]
    assert sum(len(s) for s in splits.values()) == 8
    for name in synth.SPLITS:
        on_disk = {p.name for p in (tiny_corpus / name).iterdir() if p.is_dir()}
        assert on_disk == splits[name] and len(on_disk) >= 2
    wavs = sorted(tiny_corpus.rglob("*.wav"))
    assert len(wavs) == 32 == len(meta["files"])
    for path in wavs:
        rel = path.relative_to(tiny_corpus).as_posix()
        split, spk, session, utt = rel.split("/")
        assert spk in splits[split] and session in {"s0", "s1", "s2"} and len(utt) == len("00001.wav")
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "WAV")
        assert info.duration > 1.0
        assert rel in meta["files"]
    # Evaluation splits always carry channel variation, with recorded parameters.
    for rel, f in meta["files"].items():
        if not rel.startswith("train/"):
            assert f["channel"] is not None and 15 <= f["channel"]["snr_db"] <= 30


def test_trials_are_balanced_and_valid(tiny_corpus):
    for split in ("val", "test"):
        lines = (tiny_corpus / split / "trials.txt").read_text().splitlines()
        trials = [line.split() for line in lines]
        labels = [int(t[0]) for t in trials]
        assert len(trials) > 0 and labels.count(1) == labels.count(0)
        pairs = set()
        for label, a, b in trials:
            assert (tiny_corpus / split / a).is_file() and (tiny_corpus / split / b).is_file()
            assert a != b
            assert int(label) == (a.split("/")[0] == b.split("/")[0])
            pairs.add(frozenset((a, b)))
        assert len(pairs) == len(trials)


@pytest.mark.parametrize("speakers,utts", [(10, 5), (50, 50)])  # (50, 50) exercises rejection sampling
def test_make_trials_properties(speakers, utts):
    rels = {f"s{i}": [f"s{i}/u{j}.wav" for j in range(utts)] for i in range(speakers)}
    trials = synth.make_trials(rels, 4000, np.random.default_rng(0))
    n_target = min(2000, speakers * utts * (utts - 1) // 2)
    assert sum(t[0] for t in trials) == n_target and len(trials) == 2 * n_target
    assert len({frozenset(t[1:]) for t in trials}) == len(trials)
    assert all(t[1] != t[2] and t[0] == (t[1].split("/")[0] == t[2].split("/")[0]) for t in trials)
    assert trials == synth.make_trials(rels, 4000, np.random.default_rng(0))


def test_forcing_one_voice_fails_loudly(tmp_path):
    with pytest.raises(CorpusError, match=r"voice check failed: 6 speakers .*id00000, id00001"):
        synth.generate_corpus(
            tmp_path / "same", 6, 2, 0, workers=1, report_baseline=False, verbose=False, _same_voice=True
        )


def test_refuses_to_overwrite(tiny_corpus, tmp_path, capsys):
    stamp = {p: p.stat().st_mtime_ns for p in tiny_corpus.rglob("*.wav")}
    assert synth.ensure_corpus(tiny_corpus, **TINY_CORPUS_ARGS) == tiny_corpus
    assert "reused" in capsys.readouterr().out
    assert stamp == {p: p.stat().st_mtime_ns for p in tiny_corpus.rglob("*.wav")}
    with pytest.raises(CorpusError, match="refusing to overwrite"):
        synth.generate_corpus(tiny_corpus, 8, 4, seed=1, workers=1)
    other = tmp_path / "busy"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(CorpusError, match=r"busy.*not empty"):
        synth.generate_corpus(other, 8, 4, 0, workers=1)
    assert (other / "notes.txt").read_text() == "mine"


def test_cli_reuses_and_rejects_bad_arguments(tiny_corpus, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    synth_cli.add_arguments(parser)
    argv = ["--out", str(tiny_corpus), "--speakers", "8", "--utterances", "4", "--no-baseline"]
    args = parser.parse_args(argv)
    assert synth_cli.run(args) == 0
    assert "reused" in capsys.readouterr().out
    with pytest.raises(ValueError, match="at least 6 speakers"):
        synth_cli.run(parser.parse_args(["--out", str(tmp_path / "x"), "--speakers", "5"]))


def test_interrupted_run_is_redone_in_place(tmp_path):
    out = synth.generate_corpus(tmp_path / "c", 6, 2, 3, workers=1, report_baseline=False, verbose=False)
    first = _tree(out)
    # Simulate a run killed before the end: marker present, meta.json and a file missing.
    meta = json.loads((out / "meta.json").read_text())
    (out / "meta.json").unlink()
    next(out.rglob("*.wav")).unlink()
    (out / ".incomplete.json").write_text(
        json.dumps({"arguments": meta["arguments"], "generator_version": meta["generator_version"]})
    )
    synth.generate_corpus(out, 6, 2, 3, workers=1, report_baseline=False, verbose=False)
    assert _tree(out) == first
