"""Test speech from other synthesis engines (Festival, Flite): a generalisation set, never training data.

Usage:
    bash install.sh --eval-engines          # Debian's festival + flite and their voices (evaluation only)
    python benchmarks/other_engines.py [--out runs/other_engines] [--utterances 12]

Issue 9 asks for figures "on speech the project never sees, recorded humans and other engines". Recorded
speech cannot be shipped or downloaded here, but Debian packages two other engines whose voices are
recordings of real people: Festival (diphone concatenation, HTS and unit selection) and Flite (CMU's
clustergen voices). This script makes a small test corpus of them: each voice reads the packaged English
sentences with its own letter-to-sound rules (a Czech or Finnish voice reads them as a Czech or Finnish
speaker would read the spelling), one sentence per utterance, resampled to 16 kHz, peak-normalised, and
writes two trial lists:

* ``trials.txt``: all target pairs and as many non-target pairs;
* ``trials_same_engine.txt``: non-targets only between voices of one engine family, so that the
  engine's own fine structure cannot tell a target from a non-target.

The project's rule: these engines are for measuring only. They never enter a training corpus, a default or
a test that trains; nothing under ``speaker_tf/`` calls them.

Voices: the one human per voice counts once (Flite's ``kal16`` and ``slt`` are the humans of Festival's
``kal_diphone`` and ``cmu_us_slt_arctic_hts`` and are left out). Festival's Hindi, Marathi and Telugu voices
are left out: Debian 12's packages lack their phone-set files and synthesise nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# family groups voices whose waveform generation is the same, for the same-engine trials
FESTIVAL_VOICES = {
    "kal_diphone": "festival-diphone",  # festvox-kallpc16k, US English male
    "ked_diphone": "festival-diphone",  # festvox-kdlpc16k, US English male
    "pc_diphone": "festival-diphone",  # festvox-itapc16k, Italian male
    "lp_diphone": "festival-diphone",  # festvox-italp16k, Italian female
    "suo_fi_lj_diphone": "festival-diphone",  # festvox-suopuhe-lj, Finnish female
    "hy_fi_mv_diphone": "festival-diphone",  # festvox-suopuhe-mv, Finnish male
    "czech_dita": "festival-diphone",  # festvox-czech-dita, Czech female
    "czech_krb": "festival-diphone",  # festvox-czech-krb, Czech boy
    "czech_machac": "festival-diphone",  # festvox-czech-machac, Czech male
    "czech_ph": "festival-diphone",  # festvox-czech-ph, Czech male
    "cmu_us_slt_arctic_hts": "festival-hts",  # festvox-us-slt-hts, US English female
    "upc_ca_ona_hts": "festival-hts",  # festvox-ca-ona-hts, Catalan female
    "msu_ru_nsh_clunits": "festival-clunits",  # festvox-ru, Russian male
}
FLITE_VOICES = {"awb": "flite", "rms": "flite"}  # Scottish English male, US English male
SAMPLE_RATE = 16000
UTTERANCES = 12


@dataclass(frozen=True)
class Voice:
    engine: str  # "festival" or "flite"
    name: str
    family: str

    @property
    def speaker(self) -> str:
        return f"{self.engine}_{self.name}"


def available_voices() -> list[Voice]:
    """The listed voices that this machine's festival / flite can synthesise."""
    voices: list[Voice] = []
    if shutil.which("text2wave"):
        listed = subprocess.run(
            ["festival", "--pipe"], input="(print (voice.list))", capture_output=True, text=True, timeout=120
        ).stdout
        names = set(listed.replace("(", " ").replace(")", " ").split())
        voices += [Voice("festival", v, f) for v, f in FESTIVAL_VOICES.items() if v in names]
    if shutil.which("flite"):
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=60).stdout.split()
        voices += [Voice("flite", v, f) for v, f in FLITE_VOICES.items() if v in listed]
    return voices


def synthesise(voice: Voice, text: str, path: Path) -> np.ndarray:
    """One utterance as float32 at 16 kHz; raises RuntimeError naming the voice when the engine fails."""
    import soundfile as sf
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        txt, wav = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
        txt.write_text(text + "\n", encoding="utf-8")
        if voice.engine == "festival":
            cmd = ["text2wave", "-eval", f"(voice_{voice.name})", "-o", str(wav), str(txt)]
        else:
            cmd = ["flite", "-voice", voice.name, "-f", str(txt), "-o", str(wav)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
            raise RuntimeError(
                f"{voice.engine} voice {voice.name!r} synthesised nothing for {path}: {done.stderr[-300:]}"
            )
        samples, rate = sf.read(wav, dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE).astype(np.float32)
    peak = float(np.max(np.abs(samples)))
    if peak == 0.0:
        raise RuntimeError(f"{voice.engine} voice {voice.name!r} gave silence for {path}")
    return 0.9 * samples / peak


def generate(out: Path, utterances: int = UTTERANCES, seed: int = 0) -> Path:
    """Write out/test/<speaker>/<k>.wav and both trial lists (or reuse a finished folder); return out/test."""
    import soundfile as sf

    from speaker_tf.data.corpus import EVALUATION_ONLY
    from speaker_tf.data.synth import make_trials
    from speaker_tf.data.synth_text import load_sentences
    from speaker_tf.evaluation.scoring import Trial, write_trials

    test = Path(out) / "test"
    mark = test / "done.json"
    settings = {"utterances": utterances, "seed": seed, "sample_rate": SAMPLE_RATE}
    if mark.exists() and json.loads(mark.read_text()).get("settings") == settings:
        return test
    voices = available_voices()
    if len({v.family for v in voices}) < 2 or len(voices) < 4:
        raise SystemExit(
            f"other_engines: found {len(voices)} voices ({', '.join(v.speaker for v in voices) or 'none'}); "
            "run `bash install.sh --eval-engines` first"
        )
    sentences = load_sentences()
    rng = np.random.default_rng(seed)
    files: dict[str, list[str]] = {}
    family: dict[str, str] = {}
    for voice in voices:
        (test / voice.speaker).mkdir(parents=True, exist_ok=True)
        order = rng.permutation(len(sentences))[:utterances]
        for k, s in enumerate(order):
            rel = f"{voice.speaker}/{k:02d}.wav"
            sf.write(test / rel, synthesise(voice, sentences[s], test / rel), SAMPLE_RATE, subtype="PCM_16")
            files.setdefault(voice.speaker, []).append(rel)
            family[rel] = voice.family
        print(f"other_engines: {voice.speaker} ({voice.family}): {utterances} utterances", flush=True)
    n_pairs = sum(len(u) * (len(u) - 1) // 2 for u in files.values())
    for name, groups in (("trials.txt", None), ("trials_same_engine.txt", family)):
        triples = make_trials(files, 2 * n_pairs, np.random.default_rng(seed), groups=groups)
        write_trials(test / name, [Trial(*t) for t in triples])
    (Path(out) / EVALUATION_ONLY).write_text(
        "Speech of other synthesis engines, for measuring generalisation only: never a training corpus.\n"
    )
    mark.write_text(json.dumps({"settings": settings, "voices": [v.__dict__ for v in voices]}, indent=1))
    return test


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/other_engines"))
    parser.add_argument("--utterances", type=int, default=UTTERANCES, help="utterances per voice")
    args = parser.parse_args()
    if args.utterances < 2:
        parser.error(f"--utterances must be at least 2 (target pairs need two), got {args.utterances}")
    print(generate(args.out, args.utterances))


if __name__ == "__main__":
    main()
