"""Search-space files: validation before any trial, sampling, defaults, outputs of a study."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.image
import optuna
import pytest

from speaker_tf.cli.main import main
from speaker_tf.config.experiment import load_experiment
from speaker_tf.training import profiles
from speaker_tf.training.space import SpaceError, load_space, parse_space

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def config():
    return profiles.apply("cpu", load_experiment("exp_conformer_aam").config)


def _error(config, data) -> str:
    with pytest.raises(SpaceError) as info:
        parse_space(data, config, source="s.yaml", experiment="exp_conformer_aam")
    return str(info.value)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"model.head.aam_margn": {"type": "float", "low": 0.1, "high": 0.5}},
            "s.yaml: params.model.head.aam_margn: bound: unknown config key 'model.head.aam_margn'; "
            "did you mean model.head.aam_margin",
        ),
        (
            {"model.head.aam_margin": {"type": "float", "low": 0.5, "high": 0.1}},
            "s.yaml: params.model.head.aam_margin: low=0.5 must be below high=0.1",
        ),
        (
            {"optim.learning_rate": {"type": "float", "low": 0, "high": 0.1, "log": True}},
            "s.yaml: params.optim.learning_rate: log=true needs low > 0, got low=0.0",
        ),
        (
            {"model.embedding_dim": {"type": "int", "low": 64.0, "high": 512}},
            "s.yaml: params.model.embedding_dim: low=64.0 must be an integer for an int range",
        ),
        (
            {"model.embedding_dim": {"type": "float", "low": 64, "high": 512.5}},
            "s.yaml: params.model.embedding_dim: bound: "
            "model.embedding_dim=64.0 must be of type int, not float",
        ),
        (
            {"model.pooling": {"type": "categorical", "choices": ["stats", "mean"]}},
            "s.yaml: params.model.pooling: choice: model.pooling='mean' is not one of 'avg', 'max', 'stats', "
            "'attentive_stats'",
        ),
        (
            {"model.embedding_dim": ["128", 256]},
            "s.yaml: params.model.embedding_dim: choice: "
            "model.embedding_dim='128' must be of type int, not str",
        ),
        (
            {"model.head.aam_scale": {"type": "uniform", "low": 1, "high": 2}},
            "s.yaml: params.model.head.aam_scale: type='uniform' is not one of float, int, categorical",
        ),
        (
            {"model.head.aam_scale": {"type": "float", "low": 1, "high": 2, "q": 0.5}},
            "s.yaml: params.model.head.aam_scale: unknown field 'q' for type float",
        ),
        (
            {"optim.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True, "step": 1e-4}},
            "step=0.0001 must be > 0 and cannot be combined with log=true",
        ),
        ({}, "s.yaml: 'params' must map at least one config key to a range or choices"),
    ],
)
def test_impossible_spaces_are_refused_naming_key_and_value(config, params, message):
    assert message in _error(config, {"params": params})


def test_space_level_errors(config):
    param = {"model.head.aam_margin": {"type": "float", "low": 0.1, "high": 0.5}}
    assert "s.yaml: written for experiment 'exp_122', not 'exp_conformer_aam'" in _error(
        config, {"experiment": "exp_122", "params": param}
    )
    assert "s.yaml: unknown section 'param'" in _error(config, {"param": param})
    assert "'model.head.aam_margin' is both fixed and searched" in _error(
        config, {"fixed": {"model.head.aam_margin": 0.2}, "params": param}
    )
    assert "s.yaml: fixed: train.epochs='many' must be of type int, not str" in _error(
        config, {"fixed": {"train.epochs": "many"}, "params": param}
    )


def test_yaml_reads_exponents_without_a_dot_as_floats(config, tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(
        "fixed:\n  optim.floor: 1e-2\nparams:\n  optim.learning_rate: {type: float, low: 1e-4, "
        "high: 3E-3, log: true}\n"
    )
    space = load_space(path, config)
    (param,) = space.params
    assert (param.low, param.high, param.log) == (1e-4, 3e-3, True)
    assert space.fixed == {"optim.floor": 0.01}
    with pytest.raises(SpaceError, match="does not exist"):
        load_space(tmp_path / "missing.yaml", config)


def test_sampled_values_stay_in_range_and_apply_to_the_config(config):
    space = parse_space(
        {
            "params": {
                "optim.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
                "model.conformer.layers": {"type": "int", "low": 1, "high": 6, "step": 1},
                "model.head.aam_margin": {"type": "float", "low": 0.1, "high": 0.5, "step": 0.1},
                "model.e_block.channels": {"type": "categorical", "choices": [[32, 64], [64, 128, 256]]},
            }
        },
        config,
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = []

    def objective(trial):
        values = space.sample(trial)
        resolved = config.override(values)  # type-checked like --set
        seen.append((values, resolved))
        return 0.0

    study.optimize(objective, n_trials=25)
    for values, resolved in seen:
        assert 1e-4 <= values["optim.learning_rate"] <= 1e-2
        assert type(values["model.conformer.layers"]) is int and 1 <= values["model.conformer.layers"] <= 6
        margin = values["model.head.aam_margin"]
        assert math.isclose(round(margin * 10), margin * 10, abs_tol=1e-9)  # on the 0.1 grid
        assert resolved.model.e_block.channels in ((32, 64), (64, 128, 256))
    # a log range samples evenly in log space: both decades of 1e-4..1e-2 get picks
    rates = [v["optim.learning_rate"] for v, _ in seen]
    assert min(rates) < 1e-3 < max(rates)


def test_defaults_are_the_configs_own_values_or_none_outside_the_space(config):
    inside = parse_space(
        {
            "params": {
                "model.head.aam_margin": {"type": "float", "low": 0.1, "high": 0.5},
                "model.pooling": ["stats", "attentive_stats"],
            }
        },
        config,
    )
    assert inside.defaults(config) == {
        "model.head.aam_margin": config.model.head.aam_margin,
        "model.pooling": config.model.pooling,
    }
    assert config.model.pooling in ("stats", "attentive_stats") and 0.1 <= config.model.head.aam_margin <= 0.5
    outside = parse_space(
        {"params": {"model.head.aam_margin": {"type": "float", "low": 0.4, "high": 0.5}}}, config
    )
    assert outside.defaults(config) is None


def test_the_committed_conformer_space_is_valid_and_holds_the_reference_optimum(config):
    space = load_space(REPO / "experiments/spaces/conformer_aam.yaml", config, "exp_conformer_aam")
    assert space.keys() == ["model.head.aam_margin", "model.head.aam_scale", "optim.learning_rate"]
    best_004 = {
        "model.head.aam_margin": 0.3565,
        "model.head.aam_scale": 48.15,
        "optim.learning_rate": 9.06e-4,
    }
    assert all(p.contains(best_004[p.key]) for p in space.params)
    assert space.defaults(config) is not None  # the experiment's own values can be the default trial


def test_cli_refuses_a_bad_space_before_any_trial(tmp_path, capsys):
    space = tmp_path / "bad.yaml"
    space.write_text("params:\n  optim.learning_rate: {type: float, low: 0.01, high: 0.001}\n")
    db = tmp_path / "study.db"
    code = main(
        ["sweep", "exp_conformer_aam", "--space", str(space), "--trials", "2", "--storage", f"sqlite:///{db}"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert (
        f"speaker-tf sweep: error: {space}: params.optim.learning_rate: low=0.01 must be below high=0.001"
        in err
    )
    assert not db.exists()  # refused before the study was created


def test_outputs_of_a_study(tmp_path, capsys):
    """Four valid PNGs, best.json ready for --set, and a link to the best trial's run directory."""
    from speaker_tf.training.sweep import write_outputs

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    dists = {
        "optim.learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        "model.head.aam_margin": optuna.distributions.FloatDistribution(0.1, 0.5),
    }
    values = [0.30, 0.12, 0.25, 0.18, 0.21]
    for i, value in enumerate(values):
        params = {"optim.learning_rate": 1e-4 * 1.8**i, "model.head.aam_margin": 0.1 + 0.07 * i}
        run = tmp_path / "runs" / f"trial_{i:04d}" / "exp" / "stamp"
        run.mkdir(parents=True)
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=dists,
                value=value,
                user_attrs={
                    "overrides": params,
                    "run_dir": str(run),
                    "test_eer": value + 0.01,
                    "default": i == 0,
                },
            )
        )
    definition = {"profile": "cpu", "data": None, "fixed": {"train.epochs": 4}, "sets": {"train.seed": 3}}
    out = tmp_path / "out"
    written = write_outputs(study, out, "exp_conformer_aam", definition)
    for name in ("history", "importance", "contour", "parallel_coordinates"):
        data = (out / f"{name}.png").read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        image = matplotlib.image.imread(out / f"{name}.png")
        assert image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0.01, name
    best = json.loads((out / "best.json").read_text())
    assert best["trial"] == 1 and best["val_eer"] == 0.12 and best["test_eer"] == 0.13
    assert best["default_trial"] == 0 and best["default_val_eer"] == 0.30
    assert best["overrides"] == {"train.epochs": 4, "train.seed": 3, **best["params"]}
    assert best["params"]["optim.learning_rate"] == pytest.approx(1.8e-4)
    assert f"--set 'optim.learning_rate={json.dumps(1e-4 * 1.8)}'" in best["command"]
    assert best["command"].startswith(
        "speaker-tf train exp_conformer_aam --profile cpu --set 'train.epochs=4'"
    )
    assert (out / "best_run").resolve() == (tmp_path / "runs/trial_0001/exp/stamp").resolve()
    assert written["best_run"] == out / "best_run"
    # a real folder in the link's place is never replaced
    (out / "best_run").unlink()
    (out / "best_run").mkdir()
    with pytest.raises(SpaceError, match="exists and is not a link"):
        write_outputs(study, out, "exp_conformer_aam", definition)
    assert "val EER 12.00 % (default: 30.00 %)" in capsys.readouterr().out


def test_plots_a_study_cannot_support_yet_are_skipped(tmp_path, capsys):
    from speaker_tf.training.sweep import write_outputs

    study = optuna.create_study()
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.5}, distributions=dist, value=0.2, user_attrs={"overrides": {"x": 0.5}}
        )
    )
    written = write_outputs(study, tmp_path, "exp", {"profile": "cpu", "data": None, "fixed": {}, "sets": {}})
    assert sorted(written) == ["best", "history", "parallel_coordinates"]
    out = capsys.readouterr().out
    assert "plot importance: skipped (needs 2 completed trials)" in out
    assert "plot contour: skipped (needs 2 parameters and 2 completed trials)" in out


SPACES = sorted((REPO / "experiments" / "spaces").glob("*.yaml"))


@pytest.mark.parametrize("path", SPACES, ids=lambda p: p.name)
def test_every_committed_space_is_valid_for_its_experiment_and_holds_its_default(path):
    import yaml

    name = yaml.safe_load(path.read_text())["experiment"]
    profiled = profiles.apply("cpu", load_experiment(name).config)
    space = load_space(path, profiled, name)
    assert space.defaults(profiled) is not None
