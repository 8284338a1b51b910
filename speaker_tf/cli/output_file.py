"""Checks on a command's output file, made before any slow work starts.

A command never writes over one of its own inputs (even with ``--force``), never
replaces an existing file without ``--force``, and finds out that the output
folder is missing or read-only before it has spent minutes embedding audio.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from speaker_tf.errors import OutputExistsError

__all__ = ["check_output_file"]


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)  # also catches hard links and symlinks
    return a.resolve() == b.resolve()


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_output_file(
    path: str | os.PathLike,
    *,
    force: bool,
    option: str = "--out",
    inputs: Iterable[tuple[str, str | os.PathLike]] = (),
    input_folders: Iterable[tuple[str, str | os.PathLike]] = (),
) -> Path:
    """``path`` checked as the output of a command; returns it as a Path.

    ``inputs`` are (description, file) pairs the output must not be;
    ``input_folders`` are (description, folder) pairs it must not lie in (a model
    folder, an audio corpus). Raises ValueError for an output that is an input,
    a folder, or in a missing or read-only folder, and OutputExistsError for an
    existing file without ``force``.
    """
    out = Path(path)
    for what, item in inputs:
        if _same(out, Path(item)):
            raise ValueError(f"{option} {str(out)!r} is the {what}; refusing to write over an input")
    for what, folder in input_folders:
        if _inside(out, Path(folder)):
            raise ValueError(
                f"{option} {str(out)!r} is inside the {what} {str(folder)!r}; write it somewhere else"
            )
    if out.is_dir():
        raise ValueError(f"{option} {str(out)!r} is a folder; give a file name")
    parent = out.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {str(out)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {str(out)!r}: folder {str(parent)!r} is not writable")
    if out.exists() and not force:
        raise OutputExistsError(f"{str(out)!r} exists; pass --force to overwrite it")
    return out
