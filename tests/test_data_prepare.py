"""`prepare`: conversion to 16 kHz mono int16 WAV, resumability, source safety, bad files."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.cli import main as cli_main
from speaker_tf.cli import prepare as prepare_cli
from speaker_tf.data.prepare import FAILURES_FILE, prepare_corpus
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
        FAILURES_FILE,
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
    args = [str(source), str(tmp_path / "out"), "--workers", "1", "--skip-bad"]
    assert prepare_cli.run(parser.parse_args(args)) == 0
    assert "converted 2" in capsys.readouterr().out


def test_every_failure_listed_exit_code_and_progress(source, tmp_path, capsys):
    """All failures (not the first three) with their reasons in DST; non-zero exit unless --skip-bad."""
    bad = ["spk2/bad.wav"]
    for k in range(4):  # five bad files in all: more than the summary line names
        (source / "spk3").mkdir(exist_ok=True)
        (source / "spk3" / f"x{k}.flac").write_bytes(b"")
        bad.append(f"spk3/x{k}.flac")
    dst = tmp_path / "dst"
    code = cli_main.main(["prepare", str(source), str(dst), "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 2
    listing = dst / FAILURES_FILE
    assert captured.err.splitlines()[-1] == (
        f"speaker-tf prepare: error: 5 source file(s) could not be converted (listed with the reasons in "
        f"{listing}); fix them and run again, or pass --skip-bad to go on without them"
    )
    assert "converting [" in captured.err and "7/7" in captured.err  # progress on stderr
    rows = [line.split("\t") for line in listing.read_text().splitlines()]
    assert sorted(rel for rel, _ in rows) == sorted(bad)
    reasons = dict(rows)
    assert "empty" in reasons["spk3/x0.flac"] and "not audio" in reasons["spk2/bad.wav"]
    assert (dst / "spk1" / "ch1" / "a.wav").is_file()  # the good files are converted all the same

    assert cli_main.main(["prepare", str(source), str(dst), "--workers", "1", "--skip-bad"]) == 0
    assert "already done 2, failed 5" in capsys.readouterr().out
    for rel in bad:  # once the bad files are gone, the stale list goes too
        (source / rel).unlink()
    assert cli_main.main(["prepare", str(source), str(dst), "--workers", "1"]) == 0
    assert not listing.exists()


_KILLED_PARENT = """
import os, sys, time
from pathlib import Path

import speaker_tf.data.prepare as prepare
from speaker_tf.cli.main import main

MARKS = Path(sys.argv[3])


def slow_convert(job):  # stands in for a long conversion: the worker is busy when the parent dies
    (MARKS / str(os.getpid())).touch()
    time.sleep(120)


prepare._convert = slow_convert
sys.exit(main(["prepare", sys.argv[1], sys.argv[2], "--workers", "2"]))
"""


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the workers")
def test_workers_exit_when_prepare_is_killed(source, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    (source / "spk2" / "bad.wav").unlink()
    for k in range(4):
        sf.write(str(source / "spk1" / f"c{k}.wav"), np.zeros(160), 16000, subtype="PCM_16")
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT, str(source), str(tmp_path / "dst"), str(marks)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    workers: list[int] = []
    try:
        assert _wait_until(lambda: len(list(marks.iterdir())) == 2, 60), "workers did not start"
        workers = [int(p.name) for p in marks.iterdir()]
        assert all(_alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _wait_until(lambda: not any(_alive(pid) for pid in workers), 10), (
            f"orphaned workers still running: {[pid for pid in workers if _alive(pid)]}"
        )
    finally:
        parent.kill()
        for pid in workers:  # leave nothing behind when the assertion fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


_ORPHAN = """
import os, time
from speaker_tf.data import parent_death

parent_death._set_parent_death_signal = lambda: False  # the portable fallback alone
parent_death.exit_with_parent(os.getppid(), poll_seconds=0.1)
print("armed", flush=True)
time.sleep(120)
"""

_MIDDLE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=sys.stdout)
print(child.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the child")
def test_watchdog_alone_ends_an_orphan():
    """Without PR_SET_PDEATHSIG, the watchdog thread notices the re-parenting and exits."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    middle = subprocess.Popen(
        [sys.executable, "-c", _MIDDLE, _ORPHAN], stdout=subprocess.PIPE, text=True, env=env
    )
    child = 0
    try:
        child = int(middle.stdout.readline())
        assert middle.stdout.readline().strip() == "armed"
        middle.send_signal(signal.SIGKILL)
        middle.wait(10)
        assert _wait_until(lambda: not _alive(child), 10), "the orphan kept running"
    finally:
        middle.kill()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
