"""Command-line failure paths: TensorFlow's start-up noise, and a failed `train` leaving nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.cli import main as cli_main
from speaker_tf.cli import quiet

ROOT = Path(__file__).resolve().parents[1]
NOISE = ("cuInit", "E0000", "I0000", "W0000", "oneDNN", "cudart_stub", "absl::InitializeLog")


@pytest.mark.slow  # a fresh process imports TensorFlow: 10-30 s on 2 shared cores
def test_model_command_stderr_has_no_tensorflow_noise(tmp_path):
    """`score` in a fresh process: TensorFlow is imported and run, stderr stays clean."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), name="waveform")
    h = keras.layers.Conv1D(4, 64, strides=32)(keras.layers.Reshape((-1, 1))(inp))
    keras.Model(inp, keras.layers.GlobalAveragePooling1D()(h)).save(tmp_path / "m.keras")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    env["PYTHONPATH"] = str(ROOT)
    (tmp_path / "a").mkdir()
    for i in range(2):
        noise = np.random.default_rng(i).normal(size=4000).astype(np.float32)
        sf.write(tmp_path / "a" / f"{i}.wav", 0.1 * noise, 16000)
    (tmp_path / "t.txt").write_text("1 0.wav 1.wav\n0 1.wav 0.wav\n")
    argv = ["score", "--model", "m.keras", "--trials", "t.txt", "--root", "a", "--out", "s.txt"]
    done = subprocess.run(
        [sys.executable, "-m", "speaker_tf.cli.main", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 2 scores to s.txt" in done.stdout
    assert [line for line in done.stderr.splitlines() if any(n in line for n in NOISE)] == []


def test_is_noise_keeps_other_lines():
    lines = {
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR": True,
        "I0000 00:00:1796194448.019662   21669 port.cc:153] oneDNN custom operations are on.": True,
        "E0000 00:00:1796195103.209161   15840 cuda_platform.cc:52] failed call to cuInit: INTERNAL": True,
        "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not": True,
        "To enable the following instructions: AVX2 AVX512F, in other operations, rebuild": True,
        "Traceback (most recent call last):": False,
        "ImportError: libcudart.so.12: cannot open shared object file": False,
        "E0000 is not a log line without its time and file": False,
    }
    assert {line: quiet.is_noise(line) for line in lines} == lines


def test_quiet_by_default_and_verbose_keeps_it(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(quiet, "quiet_tensorflow", lambda: calls.append(1))
    missing = str(tmp_path / "missing")
    args = ["verify", missing, "a.wav", "b.wav"]
    assert cli_main.main(args) == 2 and calls == [1]
    assert cli_main.main([*args, "--verbose"]) == 2 and calls == [1]
    assert cli_main.main(["metrics", missing]) == 2 and calls == [1]  # no TensorFlow, nothing to quiet


def test_failed_train_leaves_no_run_directory(tmp_path, capsys):
    one_speaker = tmp_path / "corpus" / "spk1" / "s1"
    one_speaker.mkdir(parents=True)
    sf.write(one_speaker / "u.wav", np.zeros(1600, np.float32), 16000, subtype="PCM_16")
    runs = tmp_path / "runs"
    for data in (tmp_path / "corpus", tmp_path / "no_such_corpus"):
        code = cli_main.main(["train", "exp_122", "--data", str(data), "--out", str(runs), "--verbose"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("speaker-tf train: error:") and str(data) in err
        assert not runs.exists() or [p for p in runs.rglob("*")] == []
