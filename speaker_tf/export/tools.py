"""Using an export from Python and from ``speaker-tf embed / verify / enroll / identify``.

``ExportedModel`` loads ``EXPORT_BASE/NAME[/VERSION]`` with plain
``tf.saved_model.load`` (no Keras, no speaker_tf layers) and embeds audio files
through the export's ``embed_utterances`` signature, i.e. exactly what a TF
Serving client gets: peak normalisation and the windowed mean for audio longer
than the export's window happen inside the graph.

Files are read with ``speaker_tf.data.audio.load_audio`` (anything libsndfile
decodes, channels averaged, resampled to the export's rate with soxr). Audio the
model cannot embed meaningfully is refused with an AudioError naming the file:
shorter than the export's ``min_samples`` after resampling, or silent (peak
below 1e-9, where the embedding would be that of an all-zero input).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from speaker_tf.errors import AudioError, ExportError, OutputExistsError
from speaker_tf.export.layout import compute_model_id, read_metadata
from speaker_tf.export.model_path import ModelPath, resolve_model

__all__ = [
    "ExportedModel",
    "OutputExistsError",
    "Progress",
    "collect_audio_files",
    "cosine",
    "save_embeddings",
]

_REQUIRED = ("embed_utterances", "metadata")
SILENCE_PEAK = 1e-9


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0 if either is zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else 0.0


class Progress:
    """A one-line progress bar on stderr (``\\r``-updated); silent when disabled."""

    def __init__(self, total: int, label: str, enabled: bool = True, width: int = 30) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.enabled = enabled and self.total > 0
        self.width = width
        self.done = 0
        self.interval = 0.1  # seconds between redraws: a million files must not mean a million lines
        self._shown = -float("inf")

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        if self.enabled and (self.done == self.total or time.monotonic() - self._shown >= self.interval):
            self._shown = time.monotonic()
            filled = int(self.width * self.done / self.total)
            bar = "#" * filled + "." * (self.width - filled)
            end = "\n" if self.done == self.total else ""
            print(f"\r{self.label} [{bar}] {self.done}/{self.total}", end=end, file=sys.stderr, flush=True)


def collect_audio_files(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named on the command line plus audio files found recursively in folders.

    Folders contribute files whose extension libsndfile decodes (sorted, case
    insensitive); a folder without any is an error, as is a missing path.
    Duplicates are dropped, first occurrence kept.
    """
    from speaker_tf.data.audio import AUDIO_EXTENSIONS

    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                raise AudioError(f"folder {str(p)!r} contains no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            found.extend(files)
        elif p.is_file():
            found.append(p)
        else:
            raise AudioError(f"audio file {str(p)!r} does not exist")
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    if not unique:
        raise AudioError("no audio files given")
    return unique


def save_embeddings(path: str | os.PathLike, embeddings: dict[str, np.ndarray], force: bool = False) -> Path:
    """Write ``{path string: embedding}`` as .npz; an existing file needs ``force``.

    Written to a temporary name then renamed, so an interrupted run never
    leaves a truncated archive under the final name.
    """
    out = Path(path)
    if out.suffix != ".npz":
        raise ValueError(f"--out {str(out)!r} must end in .npz")
    if out.exists() and not force:
        raise OutputExistsError(f"{str(out)!r} exists; pass --force to overwrite it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.partial.npz")
    try:
        np.savez(tmp, **embeddings)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


class ExportedModel:
    """An export loaded for inference: ``embed_waveforms``, ``embed_files``, ``verify_files``.

    MODEL is anything :func:`speaker_tf.export.model_path.resolve_model` accepts; a
    training run (or its ``encoder.keras``) gets the export's signatures built in memory
    with ``speaker-tf export``'s default windows, so it embeds exactly as its export would.
    """

    def __init__(self, export: str | os.PathLike) -> None:
        model = resolve_model(export)
        import tensorflow as tf

        self._tf = tf
        self.path = model.path  # the version folder, or RUN/encoder.keras (default store beside it)
        if model.kind == "export":
            self._load_export()
        else:
            self._load_run(model)
        meta = self._metadata(unused=tf.zeros([1], tf.float32))
        for key, value in meta.items():  # the graph is authoritative for what it computes
            self.info[key] = value.numpy().item()

    def _load_export(self) -> None:
        try:
            loaded = self._tf.saved_model.load(str(self.path))
        except Exception as exc:  # corrupt protobuf, missing variables, unknown ops
            raise ExportError(f"cannot load SavedModel {str(self.path)!r}: {exc}") from None
        signatures = loaded.signatures
        missing = [s for s in _REQUIRED if s not in signatures]
        if missing:
            raise ExportError(
                f"SavedModel {str(self.path)!r} lacks signature(s) {', '.join(missing)} "
                f"(has {', '.join(sorted(signatures))}): not made by `speaker-tf export`"
            )
        self._loaded = loaded
        self._embed = signatures["embed_utterances"]
        self._metadata = signatures["metadata"]
        self.info: dict[str, Any] = dict(read_metadata(self.path) or {})
        self.info.setdefault("name", self.path.parent.name)
        self.info.setdefault("version", int(self.path.name) if self.path.name.isdigit() else None)
        if "model_id" not in self.info:
            self.info["model_id"] = compute_model_id(self.path)

    def _load_run(self, model: ModelPath) -> None:
        """A training run used directly: the export's signatures built in memory, not saved."""
        from speaker_tf.export.saved_model import load_run_encoder, serving_functions

        if model.run_dir is None:
            raise ExportError(
                f"model {str(model.path)!r} has no metrics.json beside it, so no decision threshold; "
                "pass its training run folder or an export EXPORT_BASE/NAME[/VERSION]"
            )
        encoder, meta = load_run_encoder(model.run_dir)
        endpoints = serving_functions(  # the windows of `speaker-tf export`'s defaults
            encoder,
            threshold=meta["threshold"],
            val_eer=meta["val_eer"],
            min_samples=meta["min_samples"],
            sample_rate=int(meta.get("sample_rate", 16000)),
        )
        self._loaded = encoder
        self._embed = endpoints["embed_utterances"]
        self._metadata = endpoints["metadata"]
        digest = hashlib.sha256(model.path.read_bytes()).hexdigest()
        self.info = {"name": f"run {model.run_dir}", "version": None, "model_id": f"keras-{digest}"}

    # Values every tool needs, from the export itself.
    @property
    def threshold(self) -> float:
        return float(self.info["threshold"])

    @property
    def val_eer(self) -> float:
        return float(self.info["val_eer"])

    @property
    def sample_rate(self) -> int:
        return int(self.info["sample_rate"])

    @property
    def min_samples(self) -> int:
        return int(self.info["min_samples"])

    @property
    def embedding_dim(self) -> int:
        return int(self.info["embedding_dim"])

    @property
    def model_id(self) -> str:
        return str(self.info["model_id"])

    @property
    def label(self) -> str:
        """Human name of the model: NAME vVERSION for an export, ``run RUN_DIR`` for a run."""
        if self.info["version"] is None:
            return str(self.info["name"])
        return f"{self.info['name']} v{self.info['version']}"

    def embed_waveforms(self, waveforms: Sequence[np.ndarray], batch_size: int = 8) -> np.ndarray:
        """1-D float waveforms at ``sample_rate`` (any lengths) -> [N, D] L2-normalised embeddings."""
        if batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {batch_size}")
        out = np.zeros((len(waveforms), self.embedding_dim), np.float32)
        order = np.argsort([len(w) for w in waveforms], kind="stable")  # similar lengths share a batch
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            lengths = np.array([len(waveforms[i]) for i in idx], np.int32)
            batch = np.zeros((len(idx), int(lengths.max())), np.float32)
            for row, i in enumerate(idx):
                batch[row, : lengths[row]] = waveforms[i]
            result = self._embed(waveform=self._tf.constant(batch), length=self._tf.constant(lengths))
            out[idx] = result["embedding"].numpy()
        return out

    def load(self, path: str | os.PathLike) -> np.ndarray:
        """A file as the model's input: mono, resampled; too short or silent -> AudioError."""
        from speaker_tf.data.audio import load_audio

        wav = load_audio(path, sample_rate=self.sample_rate, mono="mix")
        if len(wav) < self.min_samples:
            raise AudioError(
                f"audio file {str(path)!r} is too short: {len(wav)} samples "
                f"({len(wav) / self.sample_rate:.3f} s) at {self.sample_rate} Hz, "
                f"the model needs at least {self.min_samples}"
            )
        if float(np.max(np.abs(wav))) < SILENCE_PEAK:
            raise AudioError(f"audio file {str(path)!r} is silent (all samples are zero)")
        return wav

    def embed_files(
        self,
        paths: Sequence[str | os.PathLike],
        batch_size: int = 8,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """[N, D] embeddings of audio files, read and embedded ``batch_size`` at a time."""
        out = np.zeros((len(paths), self.embedding_dim), np.float32)
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            out[start : start + len(chunk)] = self.embed_waveforms([self.load(p) for p in chunk], batch_size)
            if progress is not None:
                progress(len(chunk))
        return out

    def verify_files(self, a: str | os.PathLike, b: str | os.PathLike) -> tuple[float, bool]:
        """(cosine score, score >= threshold) of two files."""
        emb = self.embed_waveforms([self.load(a), self.load(b)])
        score = cosine(emb[0], emb[1])
        return score, score >= self.threshold
