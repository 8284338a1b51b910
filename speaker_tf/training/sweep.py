"""Optuna studies over an experiment: each trial is a training run that minimises validation EER.

The study lives in its storage (e.g. sqlite), so a killed or interrupted sweep resumes
with the same command and several processes can work on one study at once:
- every trial runs with a heartbeat; a trial whose process died (no heartbeat for two
  intervals) is marked FAIL by the next process and retried once with the same params;
- a trial interrupted with Ctrl-C is marked FAIL and its params are queued again;
- `--trials N` counts finished (complete or pruned) trials of the whole study, so a
  resumed or parallel sweep stops when the study, not the process, has N.
The first trial of a new study runs the experiment's own values of the searched keys
(under the same profile and fixed overrides), so the best trial is compared with the
default on the same validation trials and the same budget.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speaker_tf.config.base import ExperimentConfig, parse_assignment
from speaker_tf.config.experiment import Experiment
from speaker_tf.training.space import SearchSpace, SpaceError

PRUNERS = ("median", "hyperband", "none")
BEST_FILE = "best.json"
BEST_RUN_LINK = "best_run"
SQLITE = "sqlite:///"


@dataclass(frozen=True)
class SweepSettings:
    storage: str
    study: str
    trials: int
    out: Path
    pruner: str = "median"
    heartbeat_seconds: int = 60
    seed: int | None = None
    default_trial: bool = True


def default_out(storage: str, study: str) -> Path:
    """Outputs go beside an sqlite database, in a folder named after the study."""
    if not storage.startswith(SQLITE):
        raise SpaceError(
            f"--out is needed for storage {storage!r} (outputs default to the sqlite file's folder)"
        )
    return Path(storage[len(SQLITE) :]).parent / study


def base_config(
    experiment: Experiment,
    space: SearchSpace,
    sets: Sequence[str],
    data: str | None,
    profile: str,
) -> ExperimentConfig:
    """Experiment -> profile -> --data -> the space's fixed overrides -> --set (never a searched key)."""
    from speaker_tf.training.trainer import resolve_config

    config = resolve_config(experiment, (), data, profile).override(space.fixed)
    overrides = dict(parse_assignment(text) for text in sets)
    for key in overrides:
        if key in space.keys():
            raise SpaceError(f"--set {key}=... conflicts with the searched parameter {key!r}")
    return config.override(overrides)


def study_definition(
    experiment: Experiment,
    config: ExperimentConfig,
    space: SearchSpace,
    data: str | None,
    sets: Sequence[str],
) -> dict[str, Any]:
    """What makes trials comparable; stored with the study so a resume cannot mix in other trials."""
    return {
        "experiment": experiment.name,
        "profile": config.train.profile,
        "data": data,
        "fixed": dict(space.fixed),
        "sets": dict(parse_assignment(text) for text in sets),
        "params": [dataclasses.asdict(p) for p in space.params],
        "epochs": config.train.epochs,
    }


def objective(experiment: Experiment, config: ExperimentConfig, space: SearchSpace, runs: Path) -> Callable:
    """Optuna objective: train with the sampled overrides, return the final validation EER."""

    def run_trial(trial: Any) -> float:
        import keras

        from speaker_tf.training.pruning import PruningCallback
        from speaker_tf.training.run_dir import RunDir
        from speaker_tf.training.trainer import train

        sampled = space.sample(trial)
        trial_out = runs / f"trial_{trial.number:04d}"
        trial.set_user_attr("overrides", sampled)
        trial.set_user_attr("out", str(trial_out))
        print(f"trial {trial.number}: {json.dumps(sampled)}", flush=True)
        keras.backend.clear_session()  # one process runs many trials
        pruning = PruningCallback(trial)
        try:
            run_path = train(experiment, config.override(sampled), str(trial_out), extra_callbacks=[pruning])
        except KeyboardInterrupt:  # Optuna marks this trial failed; the resumed sweep runs its params again
            attrs = {k: v for k, v in trial.user_attrs.items() if k == "default"}
            trial.study.enqueue_trial(trial.params, user_attrs={**attrs, "retry_of": trial.number})
            raise
        metrics = RunDir(run_path).metrics()
        trial.set_user_attr("run_dir", str(run_path))
        trial.set_user_attr("test_eer", float(metrics["eer"]))
        trial.set_user_attr("test_min_dcf_p01", float(metrics["min_dcf_p01"]))
        return float(metrics["val_eer"])

    return run_trial


def open_study(settings: SweepSettings, definition: dict[str, Any]) -> Any:
    """Create or load the study; refuse to mix trials of a different definition into it."""
    definition = json.loads(json.dumps(definition))  # as stored: tuples become lists
    with _creation_lock(settings.storage):
        study = _create(settings, definition)
        stored = study.user_attrs.get("definition")
        if stored is None:
            study.set_user_attr("definition", definition)
    if stored is not None and stored != definition:
        changed = sorted(k for k in set(stored) | set(definition) if stored.get(k) != definition.get(k))
        raise SpaceError(
            f"study {settings.study!r} in {settings.storage} was started with a different "
            f"{', '.join(changed)}; resume with the same command or pick another --study"
        )
    return study


@contextlib.contextmanager
def _creation_lock(storage: str) -> Iterator[None]:
    """Serialise creating an sqlite study across processes (Optuna's table setup races otherwise)."""
    if not storage.startswith(SQLITE):
        yield
        return
    db = Path(storage[len(SQLITE) :])
    db.parent.mkdir(parents=True, exist_ok=True)  # sqlite creates the file, not its folder
    with open(db.with_name(f".{db.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _create(settings: SweepSettings, definition: dict[str, Any]) -> Any:
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    sqlite = settings.storage.startswith("sqlite")  # wait for another process's lock, do not fail
    with warnings.catch_warnings():  # heartbeats and their retry callback are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            settings.storage,
            engine_kwargs={"connect_args": {"timeout": 120}} if sqlite else None,
            heartbeat_interval=settings.heartbeat_seconds,
            grace_period=2 * settings.heartbeat_seconds,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )
    study = optuna.create_study(
        storage=storage,
        study_name=settings.study,
        direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(
            n_startup_trials=max(2, min(10, settings.trials // 2)), seed=settings.seed
        ),
        pruner=_pruner(settings.pruner, definition["epochs"]),
    )
    return study


def _pruner(name: str, epochs: int) -> Any:
    import optuna

    if name == "median":  # no pruning before two finished trials, nor on a trial's first evaluation
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise SpaceError(f"unknown pruner {name!r}; expected {', '.join(PRUNERS)}")


def finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def run_sweep(
    experiment: Experiment,
    config: ExperimentConfig,
    space: SearchSpace,
    settings: SweepSettings,
    definition: dict[str, Any],
) -> Any:
    """Run trials until the study holds `settings.trials` finished ones; then write the outputs."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.INFO)
    study = open_study(settings, definition)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a killed process's trials, once past the grace period
    if settings.default_trial and not study.trials:
        defaults = space.defaults(config)
        if defaults is None:
            print("the experiment's own values lie outside the space: no default trial", flush=True)
        else:
            study.enqueue_trial(defaults, user_attrs={"default": True}, skip_if_exists=True)
    remaining = settings.trials - len(finished(study))
    print(
        f"study {settings.study!r} ({settings.storage}): {len(finished(study))} finished trial(s), "
        f"{max(remaining, 0)} to go; runs under {settings.out / 'runs'}",
        flush=True,
    )
    if remaining > 0:
        study.optimize(
            objective(experiment, config, space, (settings.out / "runs").resolve()),
            n_trials=remaining,
            callbacks=[MaxTrialsCallback(settings.trials, states=(TrialState.COMPLETE, TrialState.PRUNED))],
            gc_after_trial=True,
        )
    write_outputs(study, settings.out, experiment.name, definition)
    return study


def write_outputs(study: Any, out: Path, experiment: str, definition: dict[str, Any]) -> dict[str, Path]:
    """The four plots of reference 004 as PNG, best.json and a best_run link; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    written = _plots(study, out)
    best = best_summary(study, experiment, definition)
    if best is None:
        print("no completed trial yet: no best.json", flush=True)
        return written
    _atomic_write(out / BEST_FILE, (json.dumps(best, indent=2) + "\n").encode())
    written["best"] = out / BEST_FILE
    if best.get("run_dir"):
        written["best_run"] = _link(out / BEST_RUN_LINK, Path(best["run_dir"]))
    print(
        f"best trial {best['trial']}: val EER {100 * best['val_eer']:.2f} %"
        + (f" (default: {100 * best['default_val_eer']:.2f} %)" if "default_val_eer" in best else "")
        + f"; {out / BEST_FILE}",
        flush=True,
    )
    return written


def best_summary(study: Any, experiment: str, definition: dict[str, Any]) -> dict[str, Any] | None:
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    best = min(complete, key=lambda t: t.value)
    overrides = {**definition["fixed"], **definition["sets"], **best.user_attrs["overrides"]}
    sets = [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    summary: dict[str, Any] = {
        "study": study.study_name,
        "experiment": experiment,
        "trial": best.number,
        "val_eer": best.value,
        "test_eer": best.user_attrs.get("test_eer"),
        "params": best.user_attrs["overrides"],
        "overrides": overrides,
        "profile": definition["profile"],
        "command": " ".join(
            [f"speaker-tf train {experiment} --profile {definition['profile']}"]
            + ([f"--data {definition['data']}"] if definition["data"] else [])
            + [f"--set '{s}'" for s in sets]
        ),
        "run_dir": best.user_attrs.get("run_dir"),
        "finished_trials": len(finished(study)),
    }
    default = [t for t in complete if t.user_attrs.get("default")]
    if default:
        summary["default_trial"] = default[0].number
        summary["default_val_eer"] = default[0].value
        summary["default_test_eer"] = default[0].user_attrs.get("test_eer")
    return summary


def _plots(study: Any, out: Path) -> dict[str, Path]:
    """Optuna's own matplotlib plots; a plot the study cannot support yet is skipped and said."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vis

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    params = sorted({name for t in complete for name in t.params})
    ranked: list[str] = []
    if len(complete) >= 2 and params:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ranked = list(optuna.importance.get_param_importances(study))
    makers: dict[str, tuple[str | None, Callable[[], Any]]] = {
        "history": (
            None if complete else "no completed trial",
            lambda: vis.plot_optimization_history(study, target_name="val EER"),
        ),
        "importance": (
            None if ranked else "needs 2 completed trials",
            lambda: vis.plot_param_importances(study, target_name="val EER"),
        ),
        "contour": (
            None if len(ranked) >= 2 else "needs 2 parameters and 2 completed trials",
            lambda: vis.plot_contour(study, params=ranked[:2], target_name="val EER"),
        ),
        "parallel_coordinates": (
            None if complete else "no completed trial",
            lambda: vis.plot_parallel_coordinate(study, target_name="val EER"),
        ),
    }
    written = {}
    for name, (skip, make) in makers.items():
        if skip:
            print(f"plot {name}: skipped ({skip})", flush=True)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            axes = make()
        figure = _figure(axes)
        figure.set_size_inches(8, 5.5)
        figure.tight_layout()
        path = out / f"{name}.png"
        tmp = path.with_suffix(f".{os.getpid()}.tmp.png")
        figure.savefig(tmp, dpi=80)
        plt.close(figure)
        os.replace(tmp, path)
        written[name] = path
    return written


def _figure(axes: Any) -> Any:
    import numpy as np

    first = np.asarray(axes, dtype=object).ravel()[0]
    return first.figure


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _link(link: Path, target: Path) -> Path:
    """Point `link` at the best run; an existing real file or folder there is never replaced."""
    if link.exists() and not link.is_symlink():
        raise SpaceError(f"{str(link)!r} exists and is not a link; move it away to get the best_run link")
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target.resolve(), link.parent.resolve()))
    os.replace(tmp, link)
    return link
