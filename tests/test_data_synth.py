"""Synthetic corpus: determinism, splits, trials, distinct voices, format, refusal to overwrite,
resume / verify / repair, the held-out corpus."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.cli import synth as synth_cli
from speaker_tf.data import espeak, synth, synth_channels, synth_text
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
    voices = [synth.speaker_voice(0, i) for i in range(200)]
    texts = {espeak.variant_text("v", v["variant"]) for v in voices}
    assert len(texts) == 200
    assert synth.speaker_voice(0, 7) == voices[7]
    assert synth.speaker_voice(1, 7) != voices[7]
    languages = {v["language"] for v in voices}
    assert languages <= set(synth_text.TRAIN_LANGUAGES) and len(languages) >= 40
    assert {v["synthesis"] for v in voices} == {"formant", "klatt1", "klatt2", "klatt3", "klatt5"}
    f0 = [v["variant"]["pitch"][0] for v in voices]
    assert min(f0) < 90 and max(f0) > 220
    held = [synth.speaker_voice(0, i, heldout=True) for i in range(50)]
    assert {v["language"] for v in held} == set(synth_text.HELDOUT_LANGUAGES)
    assert {v["synthesis"] for v in held} == {"klatt4"}


def test_language_sets_are_disjoint_and_broad():
    train, held = set(synth_text.TRAIN_LANGUAGES), set(synth_text.HELDOUT_LANGUAGES)
    assert not train & held and len(train) >= 40 and len(held) >= 5
    assert train | held == {lg.code for lg in synth_text.LANGUAGES}
    assert not set(synth.TRAIN_KLATT) & set(synth.HELDOUT_KLATT)
    assert set(synth.TRAIN_KLATT) | set(synth.HELDOUT_KLATT) == set(espeak.KLATT_VARIANTS)
    assert not set(synth_channels.TRAIN_CHANNELS) & set(synth_channels.HELDOUT_CHANNELS)


def test_every_language_speaks_its_text_with_the_variant(tmp_path):
    """Each language reads numbers and its pseudo-sentences without an espeak-ng complaint,
    and honours a voice variant (two variants give different audio)."""
    langs = synth_text.LANGUAGES
    data = espeak.build_data_copy(
        tmp_path,
        {"low": "language variant\npitch 70 90\n", "high": "language variant\npitch 220 300\nklatt 2\n"},
        {lg.lang_file for lg in langs},
    )
    rng = np.random.default_rng(0)
    for lg in langs:
        text = synth_text.utterance_text(lg, rng, np.arange(10), 0)
        low, rate = espeak.synthesize(text, f"{lg.code}+low", 170, 50, data)
        high, _ = espeak.synthesize(text, f"{lg.code}+high", 170, 50, data)
        numbers, _ = espeak.synthesize(synth_text.number_text(rng), f"{lg.code}+low", 170, 50, data)
        assert low.size > 0.5 * rate and numbers.size > 0.5 * rate, lg.code
        assert low.size != high.size or not np.array_equal(low, high), lg.code


def test_pseudo_sentences_use_only_their_script():
    rng = np.random.default_rng(1)
    for script, (consonants, vowels) in synth_text._SYLLABLES.items():
        letters = set("".join(consonants + vowels)) | set(" ,.?")
        for _ in range(20):
            assert set(synth_text.pseudo_sentence(script, rng)) <= letters, script
    hangul = synth_text.pseudo_sentence("hangul", rng)
    assert all(0xAC00 <= ord(c) <= 0xD7A3 for c in hangul if c not in " ,.?")


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
        assert info.duration >= synth.MIN_SECONDS
        assert rel in meta["files"]
    # Every session, training included, has a channel, and one speaker's sessions differ in kind.
    for info in meta["speakers"].values():
        assert info["language"] in synth_text.TRAIN_LANGUAGES
        kinds = [c["kind"] for c in info["sessions"]]
        assert len(set(kinds)) == 3 and set(kinds) <= set(synth_channels.TRAIN_CHANNELS)
    for rel, f in meta["files"].items():
        spk = rel.split("/")[1]
        assert f["channel"] == meta["speakers"][spk]["sessions"][f["session"]]["kind"]
        assert 5 <= f["noise"]["snr_db"] <= 45
        assert f["sha1"] == hashlib.sha1((tiny_corpus / rel).read_bytes()).hexdigest()


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


def test_killed_generation_resumes_from_completed_speakers(tmp_path, monkeypatch, capsys):
    fresh = _tree(
        synth.generate_corpus(tmp_path / "a", 6, 2, 5, workers=1, report_baseline=False, verbose=False)
    )
    real_task = synth._speaker_task

    def dies_at_id00004(job):
        if job["speaker"] == "id00004":
            raise KeyboardInterrupt("killed")
        return real_task(job)

    monkeypatch.setattr(synth, "_speaker_task", dies_at_id00004)
    with pytest.raises(KeyboardInterrupt):
        synth.generate_corpus(tmp_path / "b", 6, 2, 5, workers=1, report_baseline=False, verbose=False)
    out = tmp_path / "b"
    assert not (out / "meta.json").exists() and (out / ".incomplete.json").exists()
    marks = sorted(p.stem for p in (out / ".progress").glob("*.json"))
    assert "id00004" not in marks and len(marks) >= 1
    stamp = {p: p.stat().st_mtime_ns for m in marks for p in out.glob(f"*/{m}/*/*.wav")}
    monkeypatch.setattr(synth, "_speaker_task", real_task)
    synth.generate_corpus(out, 6, 2, 5, workers=1, report_baseline=False)
    printed = capsys.readouterr().out
    assert f"resuming: {len(marks)} of 6 speakers were already complete" in printed
    assert "6/6 speakers" not in printed and f"{6 - len(marks)}/{6 - len(marks)} speakers (100 %)" in printed
    assert stamp == {p: p.stat().st_mtime_ns for p in stamp}  # completed speakers were not redone
    assert _tree(out) == fresh and not (out / ".progress").exists()


def test_reuse_verifies_and_regenerates_missing_or_changed_files(tiny_corpus, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(tiny_corpus, out)
    original = _tree(out)
    wavs = sorted(out.rglob("*.wav"))
    wavs[0].unlink()
    wavs[5].write_bytes(wavs[5].read_bytes()[:-2] + b"\x00\x01")
    (out / "test" / "trials.txt").unlink()
    untouched = [p for p in wavs if p.parts[-3] not in {wavs[0].parts[-3], wavs[5].parts[-3]}]
    stamp = {p: p.stat().st_mtime_ns for p in untouched}
    synth.generate_corpus(out, **TINY_CORPUS_ARGS, workers=1, report_baseline=False)
    printed = capsys.readouterr().out
    assert "reused" not in printed
    assert "missing or has changed 3 files" in printed and "digest verified" in printed
    assert _tree(out) == original
    assert stamp == {p: p.stat().st_mtime_ns for p in untouched}
    # A file the generator did not write is refused, never deleted.
    (out / "train" / "id00000" / "s0" / "mine.wav").write_bytes(wavs[1].read_bytes())
    with pytest.raises(CorpusError, match=r"1 audio files its meta.json does not list.*mine.wav"):
        synth.generate_corpus(out, **TINY_CORPUS_ARGS, workers=1, report_baseline=False)
    assert (out / "train" / "id00000" / "s0" / "mine.wav").is_file()


def test_progress_is_printed(tmp_path, capsys):
    synth.generate_corpus(tmp_path / "c", 6, 2, 1, workers=1, report_baseline=False)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("synth: generating 6 speakers x 2 utterances")
    assert any(line.startswith("synth: 6/6 speakers (100 %)") for line in printed)
    assert printed[-1].startswith("synth: wrote 12 utterances")


def test_heldout_corpus_is_disjoint_from_training(tiny_corpus, tmp_path):
    parser = argparse.ArgumentParser()
    synth_cli.add_arguments(parser)
    out = tmp_path / "held"
    argv = ["--out", str(out), "--heldout", "--speakers", "6", "--utterances", "6", "--workers", "1"]
    assert synth_cli.run(parser.parse_args(argv + ["--no-baseline", "--quiet"])) == 0
    held = json.loads((out / "meta.json").read_text())
    train = json.loads((tiny_corpus / "meta.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "test"]
    assert held["kind"] == "heldout" and train["kind"] == "training"
    for key in ("languages", "synthesis", "channels"):
        assert not set(held["conditions"][key]) & set(train["conditions"][key]), key
    # Per speaker and per file, not only the declared conditions.
    for field in ("language", "synthesis"):
        used = {v[field] for v in held["speakers"].values()}
        assert used <= set(held["conditions"][field + ("s" if field == "language" else "")])
        assert not used & {v[field] for v in train["speakers"].values()}
    assert not {f["channel"] for f in held["files"].values()} & {
        f["channel"] for f in train["files"].values()
    }
    assert len(list((out / "test").rglob("*.wav"))) == 36
    counts = {}
    for name in ("trials.txt", "trials_same_channel.txt"):
        trials = [line.split() for line in (out / "test" / name).read_text().splitlines()]
        counts[f"test/{name}"] = len(trials)
        labels = [int(t[0]) for t in trials]
        assert labels.count(1) == labels.count(0) > 0
        for label, a, b in trials:
            assert int(label) == (a.split("/")[0] == b.split("/")[0])
            if name == "trials_same_channel.txt" and label == "0":
                assert held["files"][f"test/{a}"]["channel"] == held["files"][f"test/{b}"]["channel"]
    assert held["trials"] == counts


def test_make_trials_within_groups():
    rels = {f"s{i}": [f"s{i}/c{j % 3}_{j}.wav" for j in range(10)] for i in range(8)}
    groups = {u: u.split("/")[1][:2] for v in rels.values() for u in v}
    trials = synth.make_trials(rels, 400, np.random.default_rng(0), groups)
    non = [t for t in trials if t[0] == 0]
    assert len(non) == 200 and all(groups[a] == groups[b] for _, a, b in non)
    assert len({frozenset(t[1:]) for t in trials}) == len(trials)


def test_a_text_espeak_fails_on_is_replaced_by_a_pseudo_sentence(tmp_path, monkeypatch):
    real, failed = espeak.synthesize, []

    def fails_on_digits(text, *args):
        if any(c.isdigit() for c in text):
            failed.append(text)
            raise synth.AudioError(f"espeak-ng failed for text {text!r}: rc=-11")
        return real(text, *args)

    monkeypatch.setattr(espeak, "synthesize", fails_on_digits)
    out = synth.generate_corpus(tmp_path / "c", 6, 4, 2, workers=1, report_baseline=False, verbose=False)
    meta = json.loads((out / "meta.json").read_text())
    assert len(meta["files"]) == 24 == len(list(out.rglob("*.wav")))
    assert len(failed) >= 3  # the corpus would have had number texts
    assert not any(c.isdigit() for f in meta["files"].values() for c in f["text"])
