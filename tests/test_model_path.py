"""`resolve_model`: every form a MODEL argument may take, and one error style (no TensorFlow)."""

from __future__ import annotations

import pytest

from speaker_tf.errors import ExportError
from speaker_tf.export.layout import resolve_export
from speaker_tf.export.model_path import EXPECTED, ModelPath, resolve_model


def _export_version(folder):
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"pb")
    return folder


def test_accepted_forms(tmp_path):
    run = tmp_path / "runs" / "exp_122" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "encoder.keras").write_bytes(b"zip")
    (run / "metrics.json").write_text("{}")
    assert resolve_model(run) == ModelPath("run", run / "encoder.keras", run)
    assert resolve_model(run / "encoder.keras") == ModelPath("keras", run / "encoder.keras", run)
    loose = tmp_path / "model.keras"
    loose.write_bytes(b"zip")
    assert resolve_model(loose) == ModelPath("keras", loose, None)  # no metrics.json beside it

    base = tmp_path / "exports" / "speaker"
    for version in (1, 2, 10):
        _export_version(base / str(version))
    (base / "11").mkdir()  # a version folder without saved_model.pb is not served
    _export_version(base / ".tmp-12-abc")  # nor is a hidden temporary folder
    assert resolve_model(base) == ModelPath("export", base / "10")  # numerically latest, not "2"
    assert resolve_model(base / "2") == ModelPath("export", base / "2")
    assert resolve_export(base) == base / "10"


def test_one_error_style_naming_the_path_and_what_was_expected(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        tmp_path / "missing": f"model {str(tmp_path / 'missing')!r} does not exist; {EXPECTED}",
        notes: f"model {str(notes)!r} is a file but not a .keras model; {EXPECTED}",
        empty: f"model {str(empty)!r} is a folder without encoder.keras, saved_model.pb or a numeric "
        f"version folder holding one; {EXPECTED}",
    }
    for path, message in cases.items():
        with pytest.raises(ExportError) as info:
            resolve_model(path)
        assert str(info.value) == message
    assert EXPECTED == (
        "expected a training run folder (RUN with encoder.keras), a .keras file, "
        "or an export folder EXPORT_BASE/NAME[/VERSION]"
    )


def test_export_only_callers_name_the_export_command(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "encoder.keras").write_bytes(b"zip")
    with pytest.raises(ExportError) as info:
        resolve_export(run)
    assert str(info.value) == (
        f"model {str(run)!r} is a run {str(run)!r}, not an export; "
        "run `speaker-tf export RUN --out EXPORT_BASE --name NAME` first"
    )
