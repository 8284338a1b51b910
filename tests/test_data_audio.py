"""Audio I/O: round trips, resampling, and errors that name the bad file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.data.audio import load_audio, peak_normalise, write_wav16
from speaker_tf.errors import AudioError


def _tone(n: int, sr: int, f: float = 440.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


def test_write_wav16_round_trip(tmp_path):
    x = _tone(8000, 16000)
    path = tmp_path / "sub" / "a.wav"
    write_wav16(path, x, 16000)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 8000)
    raw, _ = sf.read(str(path), dtype="int16")
    np.testing.assert_array_equal(raw, np.round(x.astype(np.float64) * 32767).astype(np.int16))
    y = load_audio(path)
    assert y.dtype == np.float32 and y.shape == (8000,)
    np.testing.assert_allclose(y, x, atol=1 / 32767)
    assert [p.name for p in path.parent.iterdir()] == ["a.wav"]  # no temp file left behind


def test_resampling_and_formats(tmp_path):
    sf.write(str(tmp_path / "a.flac"), _tone(22050, 22050), 22050)
    y = load_audio(tmp_path / "a.flac", 16000)
    assert y.shape == (16000,)
    # The 440 Hz tone survives resampling: spectral peak at 440 Hz (1 Hz bins).
    assert abs(np.argmax(np.abs(np.fft.rfft(y))) - 440) <= 1
    assert load_audio(tmp_path / "a.flac", 22050).shape == (22050,)
    with pytest.raises(AudioError, match=r"a\.flac.*22050 Hz, expected 16000"):
        load_audio(tmp_path / "a.flac", 16000, resample=False)
    for ext in ("ogg", "mp3"):
        sf.write(str(tmp_path / f"a.{ext}"), _tone(16000, 16000), 16000)
        assert abs(load_audio(tmp_path / f"a.{ext}").shape[0] - 16000) <= 1


def test_stereo(tmp_path):
    left, right = _tone(1600, 16000), np.full(1600, 0.25, np.float32)
    sf.write(str(tmp_path / "st.wav"), np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"st\.wav.*2 channels"):
        load_audio(tmp_path / "st.wav")
    np.testing.assert_allclose(load_audio(tmp_path / "st.wav", mono="mix"), (left + right) / 2, atol=1e-6)
    with pytest.raises(ValueError):
        load_audio(tmp_path / "st.wav", mono="left")


def _make_bad(tmp_path, kind: str):
    path = tmp_path / f"{kind}.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        write_wav16(tmp_path / "full.wav", _tone(16000, 16000), 16000)
        path.write_bytes((tmp_path / "full.wav").read_bytes()[:10000])
    elif kind == "text":
        path.write_text("this is not audio\n" * 20)
    elif kind == "nan":
        x = _tone(1000, 16000)
        x[10] = np.nan
        sf.write(str(path), x, 16000, subtype="FLOAT")
    elif kind == "inf":
        x = _tone(1000, 16000)
        x[10] = np.inf
        sf.write(str(path), x, 16000, subtype="FLOAT")
    elif kind == "missing":
        pass
    return path


@pytest.mark.parametrize(
    "kind,message",
    [
        ("empty", "empty"),
        ("truncated", "truncated"),
        ("text", "not audio"),
        ("nan", "NaN/Inf"),
        ("inf", "NaN/Inf"),
        ("missing", "does not exist"),
    ],
)
def test_bad_files_name_the_file(tmp_path, kind, message):
    path = _make_bad(tmp_path, kind)
    with pytest.raises(AudioError, match=message) as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_peak_normalise():
    x = np.array([0.1, -0.4, 0.2], np.float32)
    np.testing.assert_allclose(peak_normalise(x), [0.25, -1.0, 0.5])
    np.testing.assert_array_equal(peak_normalise(np.zeros(4)), np.zeros(4))


def test_write_rejects_nan(tmp_path):
    with pytest.raises(AudioError, match="x.wav"):
        write_wav16(tmp_path / "x.wav", np.array([0.0, np.nan]), 16000)
    assert not any(tmp_path.iterdir())
