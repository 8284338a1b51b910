"""What a MODEL argument names: one resolver for score, embed, verify, enroll, identify.

Accepted forms (checked in this order, no TensorFlow import):

- ``RUN/encoder.keras`` or any ``.keras`` file -> kind ``"keras"``;
- a folder holding ``saved_model.pb`` (an export version ``EXPORT_BASE/NAME/VERSION``)
  -> kind ``"export"``;
- a training run folder (holds ``encoder.keras``) -> kind ``"run"``;
- an export base ``EXPORT_BASE/NAME`` -> its numerically largest version that holds a
  ``saved_model.pb`` (what TF Serving would serve) -> kind ``"export"``.

Anything else is an ExportError in one style: ``model 'X' <what is wrong>; expected ...``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from speaker_tf.errors import ExportError
from speaker_tf.export.layout import existing_versions

__all__ = ["EXPECTED", "MODEL_HELP", "ModelPath", "resolve_model"]

EXPECTED = (
    "expected a training run folder (RUN with encoder.keras), a .keras file, "
    "or an export folder EXPORT_BASE/NAME[/VERSION]"
)

# The --help text of every MODEL / EXPORT argument.
MODEL_HELP = "training run folder, its encoder.keras, or export EXPORT_BASE/NAME[/VERSION] (latest version)"


@dataclass(frozen=True)
class ModelPath:
    """A resolved MODEL argument.

    ``path`` is the ``.keras`` file (kinds ``run`` and ``keras``) or the export
    version folder (kind ``export``); ``run_dir`` is the training run folder
    (kind ``run``, or a ``.keras`` file beside a ``metrics.json``), else None.
    """

    kind: Literal["run", "keras", "export"]
    path: Path
    run_dir: Path | None = None

    def describe(self) -> str:
        if self.kind == "export":
            return f"export {str(self.path)!r}"
        if self.run_dir is not None:
            return f"run {str(self.run_dir)!r}"
        return f"Keras model {str(self.path)!r}"


def _run_of(keras_file: Path) -> Path | None:
    return keras_file.parent if (keras_file.parent / "metrics.json").is_file() else None


def _latest_version(folder: Path) -> Path | None:
    for version in reversed(existing_versions(folder)):
        if (folder / str(version) / "saved_model.pb").is_file():
            return folder / str(version)
    return None


def resolve_model(path: str | os.PathLike) -> ModelPath:
    """The model a command-line MODEL argument names (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise ExportError(f"model {str(p)!r} does not exist; {EXPECTED}")
    if p.is_file():
        if p.suffix == ".keras":
            return ModelPath("keras", p, _run_of(p))
        raise ExportError(f"model {str(p)!r} is a file but not a .keras model; {EXPECTED}")
    if (p / "saved_model.pb").is_file():
        return ModelPath("export", p)
    encoder = p / "encoder.keras"
    if encoder.is_file():
        return ModelPath("run", encoder, p)
    version = _latest_version(p)
    if version is not None:
        return ModelPath("export", version)
    raise ExportError(
        f"model {str(p)!r} is a folder without encoder.keras, saved_model.pb or a numeric version "
        f"folder holding one; {EXPECTED}"
    )
