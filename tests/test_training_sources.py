"""The training-corpus rule: training speech comes from espeak-ng's own synthesisers only.

Checked positively (without naming any other engine): the package starts no program but espeak-ng
(and tf2onnx for the ONNX export), and generating a corpus runs espeak-ng alone, with the corpus' own
voice variants of espeak-ng languages.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "speaker_tf"
# modules allowed to start processes, and why
SPAWNERS = {
    "data/espeak.py": "runs espeak-ng, the corpus' only synthesiser",
    "export/onnx.py": "runs tf2onnx (python -m tf2onnx.convert) for the ONNX export",
}
SPAWNING = {"subprocess", "pty", "pexpect", "sh"}  # modules whose import means starting programs
OS_SPAWNING = {"system", "popen", "posix_spawn", "posix_spawnp"}  # os.exec*, os.spawn* too


def _starts_programs(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in SPAWNING for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SPAWNING:
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in OS_SPAWNING or node.attr.startswith(("exec", "spawn")):
                return True
    return False


def test_only_the_espeak_and_onnx_modules_start_programs():
    spawners = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _starts_programs(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert spawners == set(SPAWNERS), spawners


def test_generating_a_corpus_runs_espeak_ng_alone_with_espeak_ng_languages(tmp_path, monkeypatch):
    from speaker_tf.data.synth import generate_corpus
    from speaker_tf.data.synth_text import TRAIN_LANGUAGES

    started: list[list[str]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(cmd, *args, **kwargs):
        started.append(list(cmd))
        return real_run(cmd, *args, **kwargs)

    def popen(cmd, *args, **kwargs):
        started.append(list(cmd))
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", popen)
    out = generate_corpus(
        tmp_path / "corpus", speakers=6, utterances=2, seed=5, workers=1, report_baseline=False, verbose=False
    )
    espeak_ng = shutil.which("espeak-ng")
    assert len(started) >= 6 * 2  # at least one synthesis per utterance, all seen here (one thread)
    assert {cmd[0] for cmd in started} == {espeak_ng}
    voices = [cmd[cmd.index("-v") + 1] for cmd in started if "-v" in cmd]
    assert len(voices) >= 6 * 2
    for voice in voices:  # <espeak-ng language>+<the corpus' own variant of it>
        lang, _, variant = voice.partition("+")
        assert lang in TRAIN_LANGUAGES and variant, voice
    assert sum(1 for _ in (out / "train").rglob("*.wav")) > 0
