"""Config values outside their declared range are refused, in one place, by key, value and range."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from speaker_tf.cli.main import main
from speaker_tf.config import ExperimentConfig
from speaker_tf.config.ranges import PROBABILITY, Range, check_ranges, ranged
from speaker_tf.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("optim.learning_rate", -1, "> 0"),
        ("optim.learning_rate", 0, "> 0"),
        ("data.speakers_per_batch", 0, ">= 2"),
        ("data.speakers_per_batch", 1, ">= 2"),
        ("data.crop_seconds", -1, "> 0"),
        ("data.sample_rate", 0, "> 0"),
        ("data.augment.p_noise", 1.5, "in [0, 1]"),
        ("data.augment.p_clean", -0.1, "in [0, 1]"),
        ("optim.warmup_fraction", 1.0, "in [0, 1)"),
        ("optim.ema", 1.0, "in [0, 1)"),
        ("train.epochs", 0, ">= 1"),
        ("train.steps_per_epoch", -5, ">= 1"),
        ("loss.supcon_temperature", 0.0, "> 0"),
        ("loss.triplet_weight", -1.0, ">= 0"),
        ("model.embedding_dim", 0, ">= 1"),
        ("model.head.dropout", 1.0, "in [0, 1)"),
        ("model.e_block.channels", [32, 0], ">= 1"),
    ],
)
def test_out_of_range_values_name_key_value_and_range(key, value, allowed):
    with pytest.raises(ConfigError) as error:
        ExperimentConfig().override({key: value})
    named, _, rest = str(error.value).partition(" is out of range: it must be ")
    if isinstance(value, list):  # lists are coerced to tuples; the bad entry is named
        assert named == f"{key}={tuple(value)!r} (entry 0)"
    else:
        assert named in (f"{key}={value!r}", f"{key}={float(value)!r}")  # ints are coerced to float fields
    assert rest == allowed


def test_boundaries_are_inclusive_or_exclusive_as_declared():
    config = ExperimentConfig().override(
        {
            "data.augment.p_noise": 1.0,
            "data.augment.p_smooth": 0.0,
            "data.speakers_per_batch": 2,
            "optim.ema": 0.0,
            "optim.warmup_fraction": 0.0,
            "train.epochs": 1,
        }
    )
    assert config.data.augment.p_noise == 1.0 and config.train.epochs == 1


def test_metric_losses_need_two_utterances_per_speaker():
    config = ExperimentConfig()  # cross-entropy only: one utterance per speaker is fine
    assert config.override({"data.utterances_per_speaker": 1}).data.utterances_per_speaker == 1
    message = (
        "data.utterances_per_speaker=1 is out of range: it must be >= 2 because loss.triplet='semihard' "
        "needs two utterances of a speaker in each batch"
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.override({"loss.triplet": "semihard", "data.utterances_per_speaker": 1})
    with pytest.raises(ConfigError, match=re.escape("because loss.supcon_weight=1.0 needs two")):
        config.override({"loss.supcon_weight": 1.0, "data.utterances_per_speaker": 1})


def test_every_default_lies_in_its_range():
    check_ranges(ExperimentConfig())  # raises otherwise
    declared = [f for f in dataclasses.fields(type(ExperimentConfig().optim)) if "range" in f.metadata]
    assert {f.name for f in declared} >= {"learning_rate", "ema", "global_clipnorm", "warmup_fraction"}


def test_a_new_field_declares_its_range_next_to_it():
    @dataclass(frozen=True)
    class Section:
        rate: float = ranged(0.5, **PROBABILITY)
        sizes: tuple[int, ...] = ranged((4, 8), ge=1)
        free: float = -3.0

    check_ranges(Section())
    with pytest.raises(ConfigError, match=re.escape("x.rate=1.5 is out of range: it must be in [0, 1]")):
        check_ranges(Section(rate=1.5), "x.")
    message = "x.sizes=(4, 0) (entry 0) is out of range: it must be >= 1"
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_ranges(Section(sizes=(4, 0)), "x.")
    assert Range(low=0, high=1, high_open=True).describe() == "in [0, 1)"
    assert Range(high=5, high_open=True).describe() == "< 5"
    with pytest.raises(ValueError, match="at most one lower"):
        ranged(1.0, ge=0, gt=0)


def test_resumed_or_loaded_configs_are_checked_too():
    values = ExperimentConfig().to_dict()
    values["optim"]["learning_rate"] = -1.0
    with pytest.raises(ConfigError, match=r"optim\.learning_rate=-1\.0 is out of range"):
        ExperimentConfig.from_dict(values)


def test_dry_run_refuses_out_of_range_settings(capsys):
    assert main(["train", "exp_122", "--dry-run", "--set", "optim.learning_rate=-1"]) == 2
    assert "optim.learning_rate=-1.0 is out of range: it must be > 0" in capsys.readouterr().err
    proc = subprocess.run(
        [sys.executable, "-m", "speaker_tf.cli.main", "train", "exp_122", "--dry-run"]
        + ["--set", "data.speakers_per_batch=0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "data.speakers_per_batch=0 is out of range: it must be >= 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_configs_saved_before_se_placements_combined_still_load():
    values = ExperimentConfig().to_dict()
    upgrades = {"after_res": ("after_res",), "after_first_conv": ("after_first_conv",), "none": ()}
    for old, new in upgrades.items():
        values["model"]["e_block"]["se"] = old
        assert ExperimentConfig.from_dict(values).model.e_block.se == new
