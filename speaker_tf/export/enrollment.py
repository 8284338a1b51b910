"""A small enrolment store for identification with an export: one SQLite file.

Each enrolled utterance keeps its own (L2-normalised) embedding, keyed by
(speaker, resolved file path); a speaker's model is the mean of all its
utterances' embeddings, scored by cosine. Enrolling a speaker again *adds* its
new files to that running mean (enrolling a file already stored for the speaker
replaces its embedding, so nothing is ever counted twice); ``remove`` deletes a
speaker. The store records the model id of the export that filled it
(``speaker_tf.export.layout.compute_model_id``) and refuses embeddings from any
other export: embeddings of different models are not comparable.
"""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from speaker_tf.errors import SpeakerTfError

__all__ = ["EnrollmentError", "EnrollmentStore", "default_store_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS utterances (
    speaker TEXT NOT NULL,
    path TEXT NOT NULL,
    embedding BLOB NOT NULL,
    added TEXT NOT NULL,
    PRIMARY KEY (speaker, path)
);
"""


class EnrollmentError(SpeakerTfError):
    """An enrolment store is missing, empty, or belongs to another export."""


def default_store_path(version_dir: str | os.PathLike) -> Path:
    """``EXPORT/../enrollments.sqlite``: beside the versions of the model (TF Serving ignores it)."""
    return Path(version_dir).resolve().parent / "enrollments.sqlite"


class EnrollmentStore:
    """Speaker name -> mean embedding, bound to one export's model id."""

    def __init__(
        self, path: str | os.PathLike, model_id: str, model_label: str, dim: int, create: bool
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise EnrollmentError(
                    f"enrolment store {str(self.path)!r} does not exist (run `speaker-tf enroll`)"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path))
            self._db.executescript(_SCHEMA)
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise EnrollmentError(
                f"enrolment store {str(self.path)!r} is not a usable SQLite file: {exc}"
            ) from None
        if not meta:
            with self._db:
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("model_id", model_id), ("model_label", model_label), ("embedding_dim", str(int(dim)))],
                )
        elif meta.get("model_id") != model_id:
            self.close()
            raise EnrollmentError(
                f"enrolment store {str(self.path)!r} holds embeddings of export {meta.get('model_label')!r} "
                f"(model id {str(meta.get('model_id'))[:12]}), "
                f"not of {model_label!r} (model id {model_id[:12]}); "
                "use --store to keep a separate store for this export"
            )
        self.dim = int(dim)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EnrollmentStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def enroll(self, speaker: str, paths: Sequence[str], embeddings: np.ndarray) -> int:
        """Add (or refresh) utterances of ``speaker``; returns its utterance count afterwards."""
        speaker = speaker.strip()
        if not speaker:
            raise ValueError("speaker name must not be empty")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape != (len(paths), self.dim):
            raise ValueError(
                f"expected {len(paths)} embeddings of size {self.dim}, got shape {embeddings.shape}"
            )
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO utterances (speaker, path, embedding, added) VALUES (?, ?, ?, ?)",
                [(speaker, str(p), e.tobytes(), now) for p, e in zip(paths, embeddings, strict=True)],
            )
        return self.count(speaker)

    def remove(self, speaker: str) -> int:
        """Delete a speaker; returns how many utterances went with it."""
        with self._db:
            return self._db.execute("DELETE FROM utterances WHERE speaker = ?", (speaker,)).rowcount

    def count(self, speaker: str) -> int:
        return int(
            self._db.execute("SELECT COUNT(*) FROM utterances WHERE speaker = ?", (speaker,)).fetchone()[0]
        )

    def speakers(self) -> dict[str, np.ndarray]:
        """name -> mean of its utterance embeddings (not re-normalised; cosine ignores the norm)."""
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for speaker, blob in self._db.execute(
            "SELECT speaker, embedding FROM utterances ORDER BY speaker, path"
        ):
            e = np.frombuffer(blob, dtype=np.float32)
            sums[speaker] = sums.get(speaker, 0) + e.astype(np.float64)
            counts[speaker] = counts.get(speaker, 0) + 1
        return {s: (sums[s] / counts[s]).astype(np.float32) for s in sums}

    def rank(self, embedding: np.ndarray) -> list[tuple[str, float]]:
        """Enrolled speakers by decreasing cosine with ``embedding`` (ties by name)."""
        models = self.speakers()
        if not models:
            raise EnrollmentError(f"enrolment store {str(self.path)!r} has no enrolled speakers")
        q = np.asarray(embedding, dtype=np.float64)
        q = q / max(np.linalg.norm(q), 1e-12)
        scores = []
        for name, mean in models.items():
            m = mean.astype(np.float64)
            scores.append((name, float(q @ m / max(np.linalg.norm(m), 1e-12))))
        return sorted(scores, key=lambda item: (-item[1], item[0]))
