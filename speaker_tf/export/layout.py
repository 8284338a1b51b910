"""TF Serving's folder layout, export metadata and model identity (no TensorFlow import).

An export lives at ``EXPORT_BASE/NAME/<version>/`` (``saved_model.pb``,
``variables/``, ``assets.extra/``), the layout a stock ``tensorflow/serving``
model server watches: it serves the numerically largest version folder and
ignores other names, so temporary folders start with a dot.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from speaker_tf.errors import ExportError

__all__ = [
    "METADATA_FILE",
    "WARMUP_FILE",
    "SIGNATURES",
    "check_model_name",
    "existing_versions",
    "next_version",
    "resolve_export",
    "read_metadata",
    "compute_model_id",
    "models_config",
]

# Written by `export_encoder` beside the SavedModel; readable without TensorFlow.
METADATA_FILE = "assets.extra/speaker_tf.json"
# The file name TF Serving looks for to warm a model up at load.
WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
SIGNATURES = ("serving_default", "embed_wav", "embed_utterances", "verify", "metadata")

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_model_name(name: str) -> str:
    """A model name TF Serving and the file system both accept, else ValueError."""
    if not isinstance(name, str) or not _NAME.match(name) or name.isdigit():
        raise ValueError(
            f"model name {name!r} must be letters, digits, '_', '.', '-' (not starting with '.' or '-', "
            "not all digits)"
        )
    return name


def existing_versions(model_dir: str | os.PathLike) -> list[int]:
    """Sorted numeric version folders under ``model_dir`` (what TF Serving would see)."""
    p = Path(model_dir)
    if not p.is_dir():
        return []
    return sorted(int(c.name) for c in p.iterdir() if c.is_dir() and c.name.isdigit())


def next_version(model_dir: str | os.PathLike) -> int:
    """Largest existing version + 1, starting at 1."""
    versions = existing_versions(model_dir)
    return (versions[-1] + 1) if versions else 1


def resolve_export(path: str | os.PathLike) -> Path:
    """The version folder an EXPORT argument names.

    Accepts a version folder (holds ``saved_model.pb``) or a model folder
    (``EXPORT_BASE/NAME``: its latest numeric version, as TF Serving would);
    resolved by :func:`speaker_tf.export.model_path.resolve_model`, which also
    recognises training runs and ``.keras`` files (refused here).
    """
    from speaker_tf.export.model_path import resolve_model

    model = resolve_model(path)
    if model.kind != "export":
        raise ExportError(
            f"model {str(path)!r} is a {model.describe()}, not an export; "
            "run `speaker-tf export RUN --out EXPORT_BASE --name NAME` first"
        )
    return model.path


def read_metadata(version_dir: str | os.PathLike) -> dict | None:
    """The ``assets.extra/speaker_tf.json`` of an export, or None if absent."""
    p = Path(version_dir) / METADATA_FILE
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"export metadata {str(p)!r} is unreadable: {exc}") from None


def compute_model_id(version_dir: str | os.PathLike) -> str:
    """SHA-256 over the graph and the weights (``saved_model.pb`` + ``variables/``).

    The identity of what produces the embeddings: a copy of an export keeps it,
    a re-export of other weights changes it; ``assets.extra`` is left out.
    """
    root = Path(version_dir)
    files = [root / "saved_model.pb"]
    files += sorted(f for f in (root / "variables").rglob("*") if f.is_file())
    digest = hashlib.sha256()
    for f in files:
        if not f.is_file():
            raise ExportError(f"export {str(root)!r} is incomplete: {str(f)!r} is missing")
        digest.update(f.relative_to(root).as_posix().encode() + b"\0")
        with open(f, "rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def models_config(models: dict[str, str], num_versions: int = 1) -> str:
    """A TF Serving ``--model_config_file`` (text protobuf) serving several models.

    ``models`` maps a model name to its base path *as the server sees it*
    (e.g. ``/models/NAME`` inside the container); the server loads the newest
    ``num_versions`` numeric version folders of each.
    """
    if not models:
        raise ValueError("models_config needs at least one model")
    if num_versions < 1:
        raise ValueError(f"num_versions must be >= 1, got {num_versions}")
    blocks = []
    for name, base_path in models.items():
        check_model_name(name)
        blocks.append(
            "  config {\n"
            f"    name: {json.dumps(name)}\n"
            f"    base_path: {json.dumps(str(base_path))}\n"
            '    model_platform: "tensorflow"\n'
            f"    model_version_policy {{ latest {{ num_versions: {int(num_versions)} }} }}\n"
            "  }\n"
        )
    return "model_config_list {\n" + "".join(blocks) + "}\n"
