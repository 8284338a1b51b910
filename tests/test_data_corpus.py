"""Corpus readers on small VoxCeleb / LibriSpeech / generic trees built from synthetic audio."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf

from speaker_tf.data.corpus import (
    read_corpus,
    read_librispeech,
    read_speaker_folders,
    read_trial_list,
    read_voxceleb,
)
from speaker_tf.errors import CorpusError


def _train_files(tiny_corpus: Path) -> list[Path]:
    return sorted((tiny_corpus / "train").rglob("*.wav"))


def test_voxceleb_tree(tiny_corpus, tmp_path):
    for src in _train_files(tiny_corpus):
        dst = tmp_path / "vox1" / "wav" / src.relative_to(tiny_corpus / "train")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    corpus = read_voxceleb(tmp_path / "vox1")  # finds the wav/ subfolder
    assert len(corpus) == 16 and corpus.speakers() == ["id00000", "id00001", "id00002", "id00003"]
    assert all(len(v) == 4 for v in corpus.by_speaker().values())
    u = corpus[0]
    assert u.relpath == "id00000/s0/00001.wav" and u.path == tmp_path / "vox1" / "wav" / u.relpath
    assert u.speaker == "id00000"
    # VoxCeleb2 after conversion: dev/aac/<id>/<session>/<utt>.wav
    (tmp_path / "vox2" / "dev").mkdir(parents=True)
    shutil.copytree(tmp_path / "vox1" / "wav", tmp_path / "vox2" / "dev" / "aac")
    assert [x.relpath for x in read_voxceleb(tmp_path / "vox2")] == [x.relpath for x in corpus]


def test_librispeech_flac_tree(tiny_corpus, tmp_path):
    for i, src in enumerate(_train_files(tiny_corpus)):
        data, sr = sf.read(str(src))
        speaker = str(100 + int(src.parts[-3][2:]))
        dst = tmp_path / "ls" / speaker / "42" / f"{speaker}-42-{i:04d}.flac"
        dst.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(dst), data, sr)
    corpus = read_corpus(tmp_path / "ls", layout="librispeech")
    assert len(corpus) == 16 and corpus.speakers() == ["100", "101", "102", "103"]
    assert all(u.path.suffix == ".flac" for u in corpus)
    assert len(read_librispeech(tmp_path / "ls")) == 16


def test_generic_any_depth_and_bad_files(tiny_corpus, tmp_path, capsys):
    files = _train_files(tiny_corpus)
    root = tmp_path / "gen"
    (root / "alice" / "a" / "b").mkdir(parents=True)
    (root / "bob").mkdir()
    shutil.copy(files[0], root / "alice" / "a" / "b" / "one.wav")
    data, sr = sf.read(str(files[1]))
    sf.write(str(root / "bob" / "two.ogg"), data, sr)
    (root / "bob" / "notes.txt").write_text("ignored: not an audio extension")
    (root / "loose.wav").write_bytes(files[2].read_bytes())  # not in a speaker folder
    (root / "bob" / "empty.wav").write_bytes(b"")
    (root / "bob" / "text.wav").write_text("not audio at all\n" * 10)
    (root / "bob" / "cut.wav").write_bytes(files[3].read_bytes()[:5000])
    corpus = read_speaker_folders(root)
    assert sorted(u.relpath for u in corpus) == ["alice/a/b/one.wav", "bob/two.ogg"]
    assert len(corpus.skipped) == 4
    out = capsys.readouterr().out
    assert "skipped 4 bad files" in out and "empty.wav" in out
    with pytest.raises(CorpusError, match=r"loose\.wav.*not inside a speaker folder"):
        read_speaker_folders(root, strict=True)
    (root / "loose.wav").unlink()
    with pytest.raises(CorpusError, match=r"cut\.wav.*truncated"):
        read_speaker_folders(root, strict=True)


def test_empty_and_single_speaker(tmp_path, tiny_corpus):
    (tmp_path / "none" / "spk").mkdir(parents=True)
    with pytest.raises(CorpusError, match="no usable audio files"):
        read_speaker_folders(tmp_path / "none")
    with pytest.raises(CorpusError, match="does not exist"):
        read_speaker_folders(tmp_path / "missing")
    shutil.copy(_train_files(tiny_corpus)[0], tmp_path / "none" / "spk" / "a.wav")
    corpus = read_speaker_folders(tmp_path / "none")
    with pytest.raises(CorpusError, match="1 speaker.*needs at least 2"):
        corpus.require_speakers(2, "training")


def test_trial_list_paths_checked(tiny_corpus, tmp_path):
    trials = read_trial_list(tiny_corpus / "test" / "trials.txt", tiny_corpus / "test")
    assert len(trials) > 0 and {t.label for t in trials} == {0, 1}
    lines = (tiny_corpus / "test" / "trials.txt").read_text().splitlines()
    lines.insert(3, "")
    lines.insert(5, "1 id00006/s0/00001.wav id00006/s9/00009.wav")
    bad = tmp_path / "trials.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"trials\.txt:6: audio file 'id00006/s9/00009\.wav' not found"):
        read_trial_list(bad, tiny_corpus / "test")
