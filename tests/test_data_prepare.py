"""`prepare`: conversion to 16 kHz mono int16 WAV, resumability, source safety, bad files."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.cli import prepare as prepare_cli
from speaker_tf.data.prepare import prepare_corpus
from speaker_tf.errors import CorpusError


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def source(tmp_path) -> Path:
    src = tmp_path / "src"
    (src / "spk1" / "ch1").mkdir(parents=True)
    (src / "spk2").mkdir()
    t = np.arange(22050) / 22050
    tone = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    sf.write(str(src / "spk1" / "ch1" / "a.flac"), tone, 22050)
    stereo = np.stack([np.full(1600, 0.5), np.full(1600, -0.1)], axis=1)
    sf.write(str(src / "spk2" / "b.wav"), stereo, 16000, subtype="PCM_16")
    (src / "spk2" / "bad.wav").write_text("plain text pretending to be audio\n" * 5)
    return src


def test_convert_resume_and_source_untouched(source, tmp_path, capsys):
    before = _hashes(source)
    dst = tmp_path / "dst"
    report = prepare_corpus(source, dst, workers=2)
    assert report.converted == 2 and report.skipped_existing == 0
    assert [rel for rel, _ in report.failed] == ["spk2/bad.wav"]
    assert "bad.wav" in capsys.readouterr().out
    a = dst / "spk1" / "ch1" / "a.wav"
    info = sf.info(str(a))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == 16000  # 1 s at 22050 Hz -> 1 s at 16 kHz
    b, _ = sf.read(str(dst / "spk2" / "b.wav"))
    assert b.ndim == 1 and np.allclose(b, 0.2, atol=1e-3)  # stereo averaged to mono
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()) == [
        "spk1/ch1/a.wav",
        "spk2/b.wav",
    ]
    stamp = a.stat().st_mtime_ns
    again = prepare_corpus(source, dst, workers=1)
    assert again.converted == 0 and again.skipped_existing == 2 and len(again.failed) == 1
    assert a.stat().st_mtime_ns == stamp
    # An empty leftover under a final name is redone, not trusted.
    (dst / "spk2" / "b.wav").write_bytes(b"")
    assert prepare_corpus(source, dst, workers=1).converted == 1
    assert _hashes(source) == before


def test_strict_and_refusals(source, tmp_path):
    with pytest.raises(CorpusError, match=r"bad\.wav"):
        prepare_corpus(source, tmp_path / "strict", workers=1, strict=True)
    before = _hashes(source)
    with pytest.raises(CorpusError, match="inside the source"):
        prepare_corpus(source, source / "converted", workers=1)
    with pytest.raises(CorpusError, match="is the source"):
        prepare_corpus(source, source, workers=1)
    with pytest.raises(CorpusError, match="contains the source"):
        prepare_corpus(source, tmp_path, workers=1)
    assert _hashes(source) == before
    sf.write(str(source / "spk1" / "ch1" / "a.wav"), np.zeros(100), 16000)
    with pytest.raises(CorpusError, match="would both be converted"):
        prepare_corpus(source, tmp_path / "clash", workers=1)


def test_cli(source, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    prepare_cli.add_arguments(parser)
    assert prepare_cli.run(parser.parse_args([str(source), str(tmp_path / "out"), "--workers", "1"])) == 0
    assert "converted 2" in capsys.readouterr().out
