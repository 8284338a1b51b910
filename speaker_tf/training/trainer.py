"""Train an experiment with `model.fit`, evaluate on unseen speakers, save and export."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from speaker_tf.config.base import ExperimentConfig, parse_assignment
from speaker_tf.config.experiment import Experiment
from speaker_tf.training import profiles
from speaker_tf.training.run_dir import RunDir


def resolve_config(
    experiment: Experiment,
    overrides: Sequence[str] = (),
    data: str | None = None,
    profile: str = "auto",
    resume: str | None = None,
) -> ExperimentConfig:
    """Experiment config -> compute profile -> --data -> --set overrides (or a resumed run's config)."""
    if resume:
        return RunDir.open(resume).config()
    config = experiment.config
    if data:
        config = config.override({"data.root": data})
    name = profiles.choose(profile, config)
    config = profiles.apply(name, config)
    return config.override(dict(parse_assignment(text) for text in overrides))


def train(
    experiment: Experiment, config: ExperimentConfig, out: str = "runs", resume: str | None = None
) -> Path:
    """The whole job; returns the run directory."""
    import keras

    from speaker_tf.data.pipeline import train_dataset
    from speaker_tf.models import build_classifier, build_encoder
    from speaker_tf.training import callbacks as run_callbacks
    from speaker_tf.training import distribute, evaluate
    from speaker_tf.training.objectives import needs_head, training_model
    from speaker_tf.training.schedules import build_optimizer
    from speaker_tf.training.splits import load_run_data
    from speaker_tf.training.warm_start import warm_start

    # First: a multi-worker / logical-CPU strategy must exist before any other TensorFlow op.
    strategy = distribute.build_strategy(config.train.strategy, config.train.devices)
    distribute.check_config(config, strategy.num_replicas_in_sync)
    worker = distribute.current_worker() if config.train.strategy == "multiworker" else distribute.Worker()
    run, chief_run = distribute.run_dirs(worker, out, experiment.name, config, resume)
    print(f"{experiment.name}: {experiment.change}")
    print(f"run directory: {run.path}")
    profiles.announce(config)
    keras.utils.set_random_seed(config.train.seed)
    if config.train.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")

    data = load_run_data(config.data, config.train.validation_trials, config.train.seed)
    print(
        f"corpus: {data.corpus_root} ({len(data.train_paths)} training files, {len(data.speakers)} speakers)"
    )
    crop = int(round(config.data.crop_seconds * config.data.sample_rate))
    with strategy.scope():  # model, optimizer (with EMA), losses and metrics live on every replica
        encoder = build_encoder(config.model, crop)
        classifier = (
            build_classifier(encoder, config.model, len(data.speakers)) if needs_head(config) else encoder
        )
        model, compile_args = training_model(classifier, config, len(data.speakers))
        distribute.sync_batch_norm(model, strategy.num_replicas_in_sync)
        compile_args = distribute.gather_batch_losses(compile_args, distribute.batch_level_terms(config))
        total_steps = config.train.epochs * config.train.steps_per_epoch
        model.compile(optimizer=build_optimizer(config.optim, total_steps), **compile_args)
    if experiment.warm_start and not resume:
        warm_start(encoder, experiment.warm_start, out)

    targets = _fit_targets(list(model.output_names), config.loss.center_weight > 0)
    start = distribute.restored_step((chief_run or run).backup, config.train.steps_per_epoch)

    def make_dataset(index: int, count: int):
        return train_dataset(
            data.train_paths, data.train_labels, config.data, config.train.seed, index, count, start
        ).map(targets)

    batch = config.data.speakers_per_batch * config.data.utterances_per_speaker
    dataset = distribute.distribute_dataset(strategy, make_dataset, batch)
    distribute.build_for_fit(model, strategy, make_dataset)
    callbacks = run_callbacks.build(run, config, encoder, data.val)
    replicas = strategy.num_replicas_in_sync
    callbacks = distribute.worker_callbacks(callbacks, worker, encoder, chief_run, replicas)
    started = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=config.train.epochs,
        steps_per_epoch=config.train.steps_per_epoch,
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
        shuffle=False,  # the pipeline samples P x K batches itself
    )
    wall = time.perf_counter() - started  # fit leaves EMA weights in the model when EMA is on
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
        final_losses={k: float(v[-1]) for k, v in history.history.items() if np.isscalar(v[-1])},
    )
    run.write_metrics(results)
    evaluate.export(encoder, config, results, run)
    _summarise(results)
    return run.path


def _summarise(results: dict) -> None:
    print(
        f"test EER {100 * results['eer']:.2f} % (MFCC baseline {100 * results['baseline_eer']:.2f} % "
        f"on the same {results['test_trials']} trials), minDCF(0.01) {results['min_dcf_p01']:.3f}, "
        f"minDCF(0.05) {results['min_dcf_p05']:.3f}, "
        f"identification top-1 {100 * results['identification_accuracy']:.1f} %; {results['steps']} steps "
        f"in {results['wall_seconds']:.0f} s ({results['examples_per_second']:.0f} examples/s)"
    )


def _fit_targets(output_names: list[str], label_input: bool):
    """(waveform, label) -> (inputs, {output: label}) for the per-term outputs."""

    def fn(waveform, label):
        inputs = {"waveform": waveform, "label": label} if label_input else {"waveform": waveform}
        return inputs, {name: label for name in output_names}

    return fn
