"""Where a run's data comes from: the corpus splits, or speakers held out of one folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from speaker_tf.config import DataConfig
from speaker_tf.errors import CorpusError
from speaker_tf.training.splits import load_run_data


def _speakers_of(split) -> set[str]:
    return {p.split("/")[0] for t in split.trials for p in (t.enroll, t.test)}


def test_corpus_with_splits_uses_its_trial_lists(tiny_corpus):
    data = load_run_data(DataConfig(root=str(tiny_corpus)), n_trials=50, seed=0)
    train_speakers = set(data.speakers)
    assert data.val.root == tiny_corpus / "val" and data.test.root == tiny_corpus / "test"
    assert len(data.test.trials) == len((tiny_corpus / "test" / "trials.txt").read_text().split("\n")) - 1
    assert train_speakers.isdisjoint(_speakers_of(data.val) | _speakers_of(data.test))
    assert sorted(set(data.train_labels)) == list(range(len(data.speakers)))
    for path, label in zip(data.train_paths, data.train_labels, strict=True):
        assert Path(path).parent.parent.name == data.speakers[label]


def test_single_folder_corpus_holds_out_disjoint_speakers(tiny_corpus, tmp_path):
    flat = tmp_path / "flat"
    for split in ("train", "val", "test"):
        for speaker in (tiny_corpus / split).iterdir():
            if speaker.is_dir():
                shutil.copytree(speaker, flat / speaker.name)
    data = load_run_data(DataConfig(root=str(flat)), n_trials=40, seed=3)
    val, test, train = _speakers_of(data.val), _speakers_of(data.test), set(data.speakers)
    assert len(val) == len(test) == 2 and len(train) == 4
    assert val.isdisjoint(test) and train.isdisjoint(val | test)
    for trial in data.val.trials + data.test.trials:
        assert (flat / trial.enroll).is_file() and (flat / trial.test).is_file()
        assert trial.label == int(trial.enroll.split("/")[0] == trial.test.split("/")[0])
    labels = [t.label for t in data.test.trials]
    assert labels.count(1) == labels.count(0) > 0


def test_max_train_speakers_keeps_the_first_speakers(tiny_corpus):
    data = load_run_data(DataConfig(root=str(tiny_corpus), max_train_speakers=2), n_trials=20, seed=0)
    assert len(data.speakers) == 2 and set(data.train_labels) == {0, 1}
    # the corpus' own count is kept, so that a run can say how many the cap left out
    every = load_run_data(DataConfig(root=str(tiny_corpus)), n_trials=20, seed=0)
    assert data.corpus_speakers == every.corpus_speakers == len(every.speakers) > 2
    n = len(every.speakers)
    assert data.describe().endswith(
        f"({len(data.train_paths)} training files, the first 2 of its {n} training speakers: "
        "max_train_speakers=2)"
    )
    assert every.describe() == f"{every.corpus_root} ({len(every.train_paths)} training files, {n} speakers)"


def test_too_small_corpus_and_missing_root_are_named(tiny_corpus, tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_run_data(DataConfig(root=str(tmp_path / "nowhere")), n_trials=10, seed=0)
    small = tmp_path / "small"
    for speaker in list((tiny_corpus / "train").iterdir())[:3]:
        if speaker.is_dir():
            shutil.copytree(speaker, small / speaker.name)
    with pytest.raises(CorpusError, match=r"small.*needs at least 6"):
        load_run_data(DataConfig(root=str(small)), n_trials=10, seed=0)


def test_training_files_in_another_format_are_named_with_the_fix(tiny_corpus, tmp_path):
    import numpy as np
    import soundfile as sf

    root = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, root)
    first = sorted((root / "train").rglob("*.wav"))[0]
    sf.write(first, np.zeros(8000, dtype=np.float32), 8000, subtype="PCM_16")
    with pytest.raises(CorpusError, match=r"8000 Hz.*speaker-tf prepare"):
        load_run_data(DataConfig(root=str(root)), n_trials=10, seed=0)


def test_unreadable_training_file_is_skipped_and_counted_or_fatal(tiny_corpus, tmp_path, capsys):
    root = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, root)
    bad = sorted((root / "train").rglob("*.wav"))[0]
    bad.write_text("not audio")
    data = load_run_data(DataConfig(root=str(root)), n_trials=10, seed=0)
    assert str(bad) not in data.train_paths
    assert "skipped 1 bad files" in capsys.readouterr().out
    with pytest.raises(CorpusError, match="bad file"):
        load_run_data(DataConfig(root=str(root), strict=True), n_trials=10, seed=0)


def test_held_out_speakers_are_written_to_the_run_directory(tiny_corpus, tmp_path):
    """A run on one folder of speakers records which it held out (trials may not use all of them)."""
    import json

    from speaker_tf.training.splits import SPEAKERS_FILE, write_speakers

    flat = tmp_path / "flat"
    for split in ("train", "val", "test"):
        for speaker in (tiny_corpus / split).iterdir():
            if speaker.is_dir():
                shutil.copytree(speaker, flat / speaker.name)
    data = load_run_data(DataConfig(root=str(flat)), n_trials=4, seed=3)
    run = tmp_path / "run"
    run.mkdir()
    assert write_speakers(data, run) == run / SPEAKERS_FILE
    record = json.loads((run / SPEAKERS_FILE).read_text())
    val, test = set(record["val"]["speakers"]), set(record["test"]["speakers"])
    assert record["train"] == data.speakers and len(val) == len(test) == 2
    assert val | test | set(record["train"]) == {p.name for p in flat.iterdir() if p.is_dir()}
    assert val.isdisjoint(test) and set(record["train"]).isdisjoint(val | test)
    assert _speakers_of(data.val) <= val and _speakers_of(data.test) <= test
    # the same seed holds out the same speakers again (a resumed run agrees with its record)
    again = load_run_data(DataConfig(root=str(flat)), n_trials=4, seed=3)
    assert set(again.val.speakers) == val and set(again.test.speakers) == test
