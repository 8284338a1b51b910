"""The `espeak-ng` program as a speech source for the synthetic corpus.

Each synthetic speaker is an espeak-ng *voice variant* file (pitch, formants,
breathiness, roughness, ... see espeak-ng's docs/voices.md) written into a
private, pruned copy of espeak-ng's data folder and selected with
``--path DIR -v LANGUAGE+VARIANT``.

Trap this module avoids: espeak-ng lists at most 349 voice files; a variant
beyond that (or a missing one) silently falls back to a fixed voice, so every
"speaker" would sound the same. The private copy therefore holds the phoneme
data and dictionaries, the language files of the languages in use (see
:mod:`speaker_tf.data.synth_text`) and our own variants, at most
``MAX_VARIANTS_PER_COPY`` of them (callers shard speakers over several
copies), and the corpus generator verifies that speakers differ.

Synthesis method: a variant's ``klatt N`` line (N = 1..6) switches espeak-ng
from its formant synthesiser (wavegen, N = 0 / absent) to its Klatt
synthesiser with glottal source N. In espeak-ng 1.51 ``klatt 6`` renders
byte-identically to ``klatt 1``, so :data:`KLATT_VARIANTS` omits it.
"""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from speaker_tf.errors import AudioError, SpeakerTfError

__all__ = [
    "KLATT_VARIANTS",
    "MAX_VARIANTS_PER_COPY",
    "espeak_binary",
    "espeak_version",
    "system_data_dir",
    "build_data_copy",
    "variant_text",
    "synthesize",
]

KLATT_VARIANTS: tuple[int, ...] = (1, 2, 3, 4, 5)
MAX_VARIANTS_PER_COPY = 200  # well under espeak-ng's 349-voice listing limit
_DATA_FILES = ("phontab", "phonindex", "phondata", "intonations")


@functools.lru_cache(maxsize=1)
def espeak_binary() -> str:
    """Path of the espeak-ng program, or SpeakerTfError saying how to install it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise SpeakerTfError(
            "the synthetic corpus needs the 'espeak-ng' program, which is not on PATH "
            "(install it, e.g. 'apt-get install espeak-ng')"
        )
    return path


@functools.lru_cache(maxsize=1)
def _version_output() -> str:
    out = subprocess.run([espeak_binary(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def espeak_version() -> str:
    """The version line of espeak-ng (recorded in meta.json: output depends on it)."""
    return _version_output().split("Data at:")[0].strip()


def system_data_dir() -> Path:
    """espeak-ng's installed data folder (the one named in ``--version``)."""
    text = _version_output()
    if "Data at:" in text:
        path = Path(text.split("Data at:")[1].strip())
        if (path / "phondata").is_file():
            return path
    for candidate in (
        Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data"),
        Path("/usr/lib/aarch64-linux-gnu/espeak-ng-data"),
        Path("/usr/share/espeak-ng-data"),
        Path("/usr/local/share/espeak-ng-data"),
    ):
        if (candidate / "phondata").is_file():
            return candidate
    raise SpeakerTfError(f"cannot find espeak-ng's data folder (espeak-ng --version says {text!r})")


def variant_text(name: str, params: dict) -> str:
    """An espeak-ng voice-variant file for the parameters of one speaker.

    ``params`` keys: pitch (base, range), formants (list of [freq%, strength%,
    width%] for formants 0-8), flutter, roughness, voicing, consonants (2 ints),
    tone (pairs of Hz, amplitude), and optional breath / breathw (8 ints each),
    echo (delay ms, amplitude) and klatt (1-6: Klatt synthesiser's glottal source).
    """
    lines = ["language variant", f"name {name}", f"pitch {params['pitch'][0]} {params['pitch'][1]}"]
    for i, (freq, height, width) in enumerate(params["formants"]):
        lines.append(f"formant {i} {freq} {height} {width}")
    lines += [
        f"flutter {params['flutter']}",
        f"roughness {params['roughness']}",
        f"voicing {params['voicing']}",
        "consonants " + " ".join(str(v) for v in params["consonants"]),
        "tone " + " ".join(str(v) for v in params["tone"]),
    ]
    if params.get("breath"):
        lines.append("breath " + " ".join(str(v) for v in params["breath"]))
        lines.append("breathw " + " ".join(str(v) for v in params["breathw"]))
    if params.get("echo"):
        lines.append(f"echo {params['echo'][0]} {params['echo'][1]}")
    if params.get("klatt"):
        lines.append(f"klatt {int(params['klatt'])}")
    return "\n".join(lines) + "\n"


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        dst.symlink_to(src)
    except OSError:
        shutil.copyfile(src, dst)


def build_data_copy(dest: Path, variants: dict[str, str], lang_files: Iterable[str]) -> Path:
    """Create ``dest/espeak-ng-data`` with the phoneme data, all dictionaries, ONLY
    the language files ``lang_files`` (paths under ``lang/``, e.g. ``roa/fr``) and
    ONLY ``variants`` (name -> file text).

    Returns ``dest`` (the value for ``--path``). Refuses more than
    MAX_VARIANTS_PER_COPY variants and language files espeak-ng lacks.
    Read-only data is linked, not copied, where the file system allows.
    """
    if len(variants) > MAX_VARIANTS_PER_COPY:
        raise ValueError(
            f"{len(variants)} voice variants in one espeak-ng data copy; at most "
            f"{MAX_VARIANTS_PER_COPY} are safe (espeak-ng lists at most 349 voices)"
        )
    src = system_data_dir()
    data = Path(dest) / "espeak-ng-data"
    (data / "voices" / "!v").mkdir(parents=True, exist_ok=True)
    for name in _DATA_FILES:
        shutil.copyfile(src / name, data / name)
    for dictionary in sorted(src.glob("*_dict")):
        _link_or_copy(dictionary, data / dictionary.name)
    for rel in sorted(set(lang_files)):
        source = src / "lang" / rel
        if not source.is_file():
            raise SpeakerTfError(f"espeak-ng language file {str(source)!r} is missing (espeak-ng too old?)")
        (data / "lang" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, data / "lang" / rel)
    for name, text in variants.items():
        (data / "voices" / "!v" / name).write_text(text, encoding="ascii")
    return Path(dest)


def synthesize(
    text: str, voice: str, speed: int, pitch: int, data_path: Path | None
) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng; returns (int16 samples, sample rate).

    ``voice`` is ``language+variant``; ``data_path`` the folder holding the
    private ``espeak-ng-data`` (None: the system data). Any message on stderr
    is treated as a failure: espeak-ng reports voice problems only there.
    """
    cmd = [espeak_binary()]
    if data_path is not None:
        cmd.append(f"--path={data_path}")
    cmd += ["-v", voice, "-s", str(int(speed)), "-p", str(int(pitch)), "--stdout", text]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    err = proc.stderr.decode("utf-8", "replace").strip()
    raw = proc.stdout
    if proc.returncode != 0 or err:
        raise AudioError(f"espeak-ng failed for voice {voice!r}, text {text!r}: rc={proc.returncode} {err}")
    if len(raw) <= 44 or raw[:4] != b"RIFF" or raw[36:40] != b"data":
        raise AudioError(f"espeak-ng produced no WAV audio for voice {voice!r}, text {text!r}")
    channels, rate = struct.unpack("<HI", raw[22:28])
    bits = struct.unpack("<H", raw[34:36])[0]
    if channels != 1 or bits != 16:
        raise AudioError(f"espeak-ng produced {channels}-channel {bits}-bit audio; expected mono 16-bit")
    samples = np.frombuffer(raw[44 : 44 + (len(raw) - 44) // 2 * 2], dtype="<i2").astype(np.int16)
    if samples.size == 0 or not np.any(samples):
        raise AudioError(f"espeak-ng produced silence for voice {voice!r}, text {text!r}")
    return samples, int(rate)
