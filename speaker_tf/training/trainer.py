"""Train an experiment with `model.fit`, evaluate on unseen speakers, save and export."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from speaker_tf.config.base import ExperimentConfig, parse_assignment
from speaker_tf.config.experiment import Experiment
from speaker_tf.errors import ConfigError
from speaker_tf.training import profiles
from speaker_tf.training.resume import RestorePoint, open_unfinished


def resolve_config(
    experiment: Experiment,
    overrides: Sequence[str] = (),
    data: str | None = None,
    profile: str = "auto",
    resume: str | None = None,
) -> ExperimentConfig:
    """Experiment config -> compute profile -> --data -> --set overrides (or a resumed run's config)."""
    if resume:
        if overrides or data or profile != "auto":
            given = ", ".join(
                flag
                for flag, used in (("--set", overrides), ("--data", data), ("--profile", profile != "auto"))
                if used
            )
            raise ConfigError(
                f"{given} cannot be combined with --resume: a resumed run continues with its own "
                f"{resume}/config.json. Start a new run instead (to start from this run's weights: "
                f"--set train.warm_start={resume})"
            )
        return open_unfinished(resume).config()
    config = experiment.config
    if data:
        config = config.override({"data.root": data})
    name = profiles.choose(profile, config)
    config = profiles.apply(name, config).override(dict(experiment.profile_overrides.get(name, {})))
    return config.override(dict(parse_assignment(text) for text in overrides))


def train(
    experiment: Experiment,
    config: ExperimentConfig,
    out: str = "runs",
    resume: str | None = None,
    extra_callbacks: Sequence[Any] = (),
) -> Path:
    """The whole job; returns the run directory.

    `extra_callbacks` (keras callbacks) run after the run's own, so they see `val_eer`
    in the epoch logs and their `on_train_end` runs after the others cleaned up
    (a sweep's pruning callback raises there).
    """
    import keras

    from speaker_tf.data.pipeline import train_classes, train_dataset
    from speaker_tf.data.service import check_service, distribute_training
    from speaker_tf.models import build_classifier, build_encoder
    from speaker_tf.training import callbacks as run_callbacks
    from speaker_tf.training import distribute, evaluate, tensorboard
    from speaker_tf.training.objectives import needs_head, training_model
    from speaker_tf.training.resume import ResumeState, restore_point, total_seconds
    from speaker_tf.training.schedules import build_optimizer
    from speaker_tf.training.splits import load_run_data, write_speakers
    from speaker_tf.training.warm_start import warm_start

    # First: a multi-worker / logical-CPU strategy must exist before any other TensorFlow op.
    strategy = distribute.build_strategy(config.train.strategy, config.train.devices)
    distribute.check_config(config, strategy.num_replicas_in_sync)
    check_service(config)
    worker = distribute.current_worker() if config.train.strategy == "multiworker" else distribute.Worker()
    # The data is checked before the run directory exists: a bad --data leaves no empty run behind.
    data = load_run_data(config.data, config.train.validation_trials, config.train.seed)
    run, chief_run = distribute.run_dirs(worker, out, experiment.name, config, resume)
    print(f"{experiment.name}: {experiment.change}")
    print(f"run directory: {run.path}")
    profiles.announce(config)
    keras.utils.set_random_seed(config.train.seed)
    if config.train.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")

    print(f"corpus: {data.describe()}")
    write_speakers(data, run.path)
    crop = int(round(config.data.crop_seconds * config.data.sample_rate))
    classes = train_classes(data.train_labels, config.data)  # speakers x speed factors
    with strategy.scope():  # model, optimizer (with EMA), losses and metrics live on every replica
        encoder = build_encoder(config.model, crop)
        classifier = build_classifier(encoder, config.model, classes) if needs_head(config) else encoder
        model, compile_args = training_model(classifier, config, classes)
        distribute.sync_batch_norm(model, strategy.num_replicas_in_sync)
        compile_args = distribute.gather_batch_losses(compile_args, distribute.batch_level_terms(config))
        total_steps = config.train.epochs * config.train.steps_per_epoch
        model.compile(optimizer=build_optimizer(config.optim, total_steps), **compile_args)
    # every worker continues from the chief's backup (its own when it is the chief)
    restored = (
        restore_point((chief_run or run).backup, config.train.steps_per_epoch) if resume else RestorePoint()
    )
    source = config.train.warm_start or experiment.warm_start  # --set train.warm_start wins
    if source and restored.step == 0:  # (a backup holds the warm-started weights, trained on)
        warm_start(encoder, source, out, record=run.path)

    targets = _fit_targets(list(model.output_names), config.loss.center_weight > 0)

    def make_dataset(index: int, count: int):
        dataset = train_dataset(
            data.train_paths, data.train_labels, config.data, config.train.seed, index, count, restored.step
        ).map(targets)
        if config.train.data_service:  # built on the service's workers (speaker_tf/data/service.py)
            dataset = distribute_training(dataset, config.train.data_service)
        return dataset

    batch = config.data.speakers_per_batch * config.data.utterances_per_speaker
    dataset = distribute.distribute_dataset(strategy, make_dataset, batch)
    distribute.build_for_fit(model, strategy, make_dataset)
    callbacks = run_callbacks.build(run, config, encoder, data.val)
    replicas = strategy.num_replicas_in_sync
    callbacks = distribute.worker_callbacks(callbacks, worker, encoder, chief_run, replicas)
    state = ResumeState(run.backup, callbacks, restored)
    callbacks.append(state)  # after the run's own: it reads and restores their state
    callbacks += list(extra_callbacks)  # last: a sweep's pruning raises in on_train_end
    if restored.step == 0 and worker.is_chief:
        tensorboard.write_hparams(run.log_dir, config, trial_id=f"{experiment.name}/{run.path.name}")
        tensorboard.write_graph(run.log_dir, encoder, crop)
    history = model.fit(
        dataset,
        epochs=config.train.epochs,
        steps_per_epoch=config.train.steps_per_epoch,
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
        shuffle=False,  # the pipeline samples P x K batches itself
    )
    # fit leaves EMA weights in the model when EMA is on
    pieces = [*restored.pieces, state.piece()]  # training time of every piece of a resumed run
    wall = total_seconds(pieces)
    if not worker.is_chief:  # the chief evaluates and exports; a worker's files were temporary
        distribute.remove_worker_dir(run)
        return chief_run.path if chief_run else run.path
    if replicas > 1:  # evaluate and export one copy of the model, outside the strategy
        encoder = distribute.detached_copy(encoder, lambda: build_encoder(config.model, crop))

    results = evaluate.final(encoder, config, data, run)
    steps = int(model.optimizer.iterations.numpy())
    examples = steps * config.data.speakers_per_batch * config.data.utterances_per_speaker
    results.update(
        steps=steps,
        wall_seconds=round(wall, 1),
        examples_per_second=round(examples / max(wall, 1e-9), 1),
        train_pieces=pieces,
        final_losses={k: float(v[-1]) for k, v in history.history.items() if np.isscalar(v[-1])},
    )
    run.write_metrics(results)
    tensorboard.write_final_metrics(run.log_dir, results, steps)
    evaluate.export(encoder, config, results, run)
    _summarise(results)
    return run.path


def _summarise(results: dict) -> None:
    print(
        f"test EER {100 * results['eer']:.2f} % (MFCC baseline {100 * results['baseline_eer']:.2f} % "
        f"on the same {results['test_trials']} trials), minDCF(0.01) {results['min_dcf_p01']:.3f}, "
        f"minDCF(0.05) {results['min_dcf_p05']:.3f}, "
        f"identification top-1 {100 * results['identification_accuracy']:.1f} %; {results['steps']} steps "
        f"in {results['wall_seconds']:.0f} s ({results['examples_per_second']:.0f} examples/s); "
        f"fused with the MFCC baseline (weights fitted on validation trials): "
        f"EER {100 * results['fused_eer']:.2f} %"
    )


def _fit_targets(output_names: list[str], label_input: bool):
    """(waveform, label) -> (inputs, {output: label}) for the per-term outputs."""

    def fn(waveform, label):
        inputs = {"waveform": waveform, "label": label} if label_input else {"waveform": waveform}
        return inputs, {name: label for name in output_names}

    return fn
