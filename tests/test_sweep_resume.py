"""Study bookkeeping of `run_sweep` with a stand-in trainer (no TensorFlow training): fast and exact."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from speaker_tf.config.base import ExperimentConfig
from speaker_tf.config.experiment import load_experiment
from speaker_tf.training import trainer
from speaker_tf.training.pruning import PruningCallback
from speaker_tf.training.space import SpaceError, parse_space
from speaker_tf.training.sweep import SweepSettings, base_config, run_sweep, study_definition

SPACE = {
    "fixed": {"train.epochs": 3},
    "params": {
        "optim.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        "model.head.aam_margin": {"type": "float", "low": 0.1, "high": 0.5},
    },
}


def _fake_val_eer(config) -> float:
    """A smooth function of the sampled values with its minimum at lr 1e-3, margin 0.3."""
    lr, margin = config.optim.learning_rate, config.model.head.aam_margin
    return 0.05 + abs(math.log10(lr) + 3) / 10 + abs(margin - 0.3)


def fake_train(experiment, config, out="runs", resume=None, extra_callbacks=()):
    run = Path(out) / experiment.name / "run"
    run.mkdir(parents=True)
    (run / "config.json").write_text(config.to_json())
    eer = _fake_val_eer(config)
    (run / "metrics.json").write_text(json.dumps({"val_eer": eer, "eer": eer + 0.01, "min_dcf_p01": 0.5}))
    return run


def interrupted_train(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.fixture
def sweep(tmp_path):
    experiment = load_experiment("exp_conformer_aam")
    space = parse_space(SPACE, trainer.resolve_config(experiment, (), None, "cpu"))
    config = base_config(experiment, space, ["train.seed=3"], None, "cpu")

    def run(trials: int, sets: tuple[str, ...] = ("train.seed=3",)):
        settings = SweepSettings(storage=f"sqlite:///{tmp_path / 's.db'}", study="s", trials=trials,
                                 out=tmp_path / "out", seed=0)  # fmt: skip
        definition = study_definition(experiment, config, space, None, sets)
        return run_sweep(experiment, config, space, settings, definition)

    return run


def test_interrupted_trial_is_queued_again_and_trials_count_the_whole_study(sweep, monkeypatch, tmp_path):
    monkeypatch.setattr(trainer, "train", interrupted_train)
    with pytest.raises(KeyboardInterrupt):
        sweep(trials=3)
    first, queued = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 's.db'}").trials
    assert first.state == TrialState.FAIL
    # the first trial of a new study is the experiment's own values under the cpu profile
    own = trainer.resolve_config(load_experiment("exp_conformer_aam"), (), None, "cpu")
    assert first.params == {
        "optim.learning_rate": own.optim.learning_rate,
        "model.head.aam_margin": own.model.head.aam_margin,
    }
    assert first.user_attrs["default"]
    assert queued.state == TrialState.WAITING and queued.system_attrs["fixed_params"] == first.params
    assert queued.user_attrs == {"default": True, "retry_of": 0}

    monkeypatch.setattr(trainer, "train", fake_train)
    study = sweep(trials=3)
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.FAIL] + [TrialState.COMPLETE] * 3
    assert trials[1].params == first.params and trials[1].user_attrs["default"]
    for t in trials[1:]:
        config = json.loads(Path(t.user_attrs["run_dir"], "config.json").read_text())
        assert config["train"]["seed"] == 3 and config["train"]["epochs"] == 3  # --set and fixed
        assert config["optim"]["learning_rate"] == t.params["optim.learning_rate"]
        assert t.value == pytest.approx(_fake_val_eer(ExperimentConfig.from_dict(config)))
        assert t.user_attrs["test_eer"] == pytest.approx(t.value + 0.01)
    best = json.loads((tmp_path / "out" / "best.json").read_text())
    assert best["val_eer"] == min(t.value for t in trials[1:])
    assert best["default_trial"] == 1 and best["default_val_eer"] == pytest.approx(trials[1].value)

    # more trials asked of the same study: only the difference runs
    assert len(sweep(trials=4).trials) == 5
    assert len(sweep(trials=4).trials) == 5


def test_a_study_is_not_resumed_with_a_different_definition(sweep, monkeypatch):
    monkeypatch.setattr(trainer, "train", fake_train)
    sweep(trials=1)
    message = "'s' in sqlite:///.* was started with a different sets; resume with the same command"
    with pytest.raises(SpaceError, match=message):
        sweep(trials=2, sets=("train.seed=4",))


def test_pruning_callback_reports_and_stops_a_bad_trial():
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    for value in (0.1, 0.2):
        good = study.ask()
        for epoch in range(3):
            good.report(value, epoch)
        study.tell(good, value)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    trial = study.ask()
    model.stop_training = False  # as fit() starts
    callback = PruningCallback(trial)
    callback.set_model(model)
    callback.on_epoch_end(0, {"loss": 1.0})  # no val_eer this epoch: nothing reported
    assert study.trials[-1].intermediate_values == {}
    callback.on_epoch_end(0, {"val_eer": 0.4})  # the warm-up epoch is never pruned
    assert not model.stop_training
    callback.on_epoch_end(1, {"val_eer": 0.4})  # worse than the median 0.15 of the finished trials
    assert model.stop_training and callback.pruned_at == 1
    assert study.trials[-1].intermediate_values == {0: 0.4, 1: 0.4}
    with pytest.raises(optuna.TrialPruned, match="pruned after epoch 2"):
        callback.on_train_end()


def test_pruning_stops_model_fit_after_the_epoch_and_raises_at_the_end():
    """Inside a real `fit`: the epoch finishes, fit stops, TrialPruned comes out of fit."""
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.3))
    trial = study.ask()
    seen = []

    class FakeValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_eer"] = 0.2 if epoch == 0 else 0.5
            seen.append(epoch)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 2), np.float32)
    with pytest.raises(optuna.TrialPruned):
        model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[FakeValidation(), PruningCallback(trial)])
    assert seen == [0, 1]  # pruned at the end of the second epoch


OPEN_STUDY = """
import sys
from pathlib import Path
from speaker_tf.training.sweep import SweepSettings, open_study
settings = SweepSettings(storage=sys.argv[1], study="race", trials=2, out=Path(sys.argv[2]))
print(open_study(settings, {"epochs": 1}).study_name)
"""


def test_processes_creating_one_new_study_at_once_do_not_collide(tmp_path):
    """Optuna's sqlite table setup races between processes; the sweep serialises it."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for round_ in range(2):
        url = f"sqlite:///{tmp_path / f'r{round_}' / 's.db'}"
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN_STUDY, url, str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(4)
        ]  # fmt: skip
        for proc in procs:
            out = proc.communicate(timeout=300)[0]
            assert proc.returncode == 0, out[-2000:]
        assert [s.study_name for s in optuna.get_all_study_summaries(url)] == ["race"]
