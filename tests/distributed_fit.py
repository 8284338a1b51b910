"""Driver for the distributed-training tests: a few `fit` steps of a tiny exp_122 under a strategy.

Run as a script in a fresh process (a multi-device strategy must exist before any other
TensorFlow op): builds the model, losses and input stream with the same calls as the
trainer, trains `--epochs` x `--steps` steps and writes the per-epoch losses as JSON.

    python tests/distributed_fit.py --corpus DIR --strategy mirrored --out result.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speaker_tf.training import distribute  # noqa: E402  (no TensorFlow op runs at import)
from speaker_tf.training.resume import restore_point  # noqa: E402

OVERRIDES = {
    "data.speakers_per_batch": 4,
    "data.utterances_per_speaker": 2,
    "data.crop_seconds": 0.5,
    "model.embedding_dim": 16,
    "model.fc.width": 32,
    "optim.ema": 0.0,
    "model.head.dropout": 0.0,  # random masks cannot match across replicas
    "optim.learning_rate": 1e-3,
}


def tiny_config(corpus: str, strategy: str, devices: tuple[str, ...], epochs: int, steps: int):
    from speaker_tf.config.experiment import load_experiment
    from speaker_tf.training import profiles

    config = profiles.apply("quick", load_experiment("exp_122").config)
    return config.override(
        {
            **OVERRIDES,
            "data.root": corpus,
            "train.strategy": strategy,
            "train.devices": list(devices),
            "train.epochs": epochs,
            "train.steps_per_epoch": steps,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--devices", default="")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--backup", help="chief's backup folder (BackupAndRestore at each epoch end)")
    parser.add_argument("--worker-backup", help="this worker's backup folder (default: --backup)")
    parser.add_argument("--log", help="append 'epoch,loss,iterations' lines here at each epoch end")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to sleep after each epoch")
    parser.add_argument("--compare", action="store_true", help="also train on one device first")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    devices = tuple(d for d in args.devices.split(",") if d)
    strategy = distribute.build_strategy(args.strategy, devices)  # first TensorFlow call
    import keras

    from speaker_tf.training.splits import load_run_data

    config = tiny_config(args.corpus, args.strategy, devices, args.epochs, args.steps)
    data = load_run_data(config.data, 10, 0)
    callbacks = []
    if args.backup:
        callbacks.append(
            distribute.WorkerBackupAndRestore(
                args.worker_backup or args.backup, args.backup, save_freq="epoch", delete_checkpoint=False
            )
        )
    if args.log or args.sleep:
        callbacks.append(_EpochLog(args.log, args.sleep))
    results = {}
    initial = None
    if args.compare:  # the single-device reference first, in the same process
        default = distribute.build_strategy("default")
        results["single"], initial = fit(default, config, data, [], None)
    results[args.strategy], _ = fit(strategy, config, data, callbacks, initial, args.backup)
    Path(args.out).write_text(json.dumps(results), encoding="utf-8")
    del keras
    return 0


def fit(
    strategy, config, data, callbacks: list, initial: list | None, backup: str | None = None
) -> tuple[dict, list]:
    """Build as the trainer does under `strategy`, train, return (results, initial weights)."""
    import keras
    import numpy as np

    from speaker_tf.data.pipeline import train_dataset
    from speaker_tf.models import build_classifier, build_encoder
    from speaker_tf.training.objectives import training_model
    from speaker_tf.training.schedules import build_optimizer

    replicas = strategy.num_replicas_in_sync
    distribute.check_config(config, replicas)
    crop = int(round(config.data.crop_seconds * config.data.sample_rate))
    keras.utils.set_random_seed(0)
    with strategy.scope():
        encoder = build_encoder(config.model, crop)
        classifier = build_classifier(encoder, config.model, len(data.speakers))
        model, compile_args = training_model(classifier, config, len(data.speakers))
        distribute.sync_batch_norm(model, replicas)
        compile_args = distribute.gather_batch_losses(compile_args, distribute.batch_level_terms(config))
        total = config.train.epochs * config.train.steps_per_epoch
        model.compile(optimizer=build_optimizer(config.optim, total), **compile_args)
    if initial is not None:
        model.set_weights(initial)
    initial = model.get_weights()

    start = restore_point(Path(backup), config.train.steps_per_epoch).step if backup else 0

    def make(index: int, count: int):
        names = list(model.output_names)
        return train_dataset(
            data.train_paths, data.train_labels, config.data, config.train.seed, index, count, start
        ).map(lambda x, y: ({"waveform": x}, {name: y for name in names}))

    batch = config.data.speakers_per_batch * config.data.utterances_per_speaker
    dataset = distribute.distribute_dataset(strategy, make, batch)
    distribute.build_for_fit(model, strategy, make)
    history = model.fit(
        dataset,
        epochs=config.train.epochs,
        steps_per_epoch=config.train.steps_per_epoch,
        callbacks=callbacks,
        verbose=0,
        shuffle=False,
    )
    probe = np.random.default_rng(1).uniform(-1, 1, (3, crop)).astype("float32")
    result = {
        "replicas": replicas,
        "losses": {k: [float(v) for v in values] for k, values in history.history.items()},
        "iterations": int(model.optimizer.iterations.numpy()),
        "embedding": np.asarray(encoder(probe, training=False)).tolist(),
    }
    return result, initial


class _EpochLog:
    """Writes each finished epoch (and the optimizer's step count) to a file; optional pause."""

    def __new__(cls, path: str | None, sleep: float):
        import time

        import keras

        class EpochLog(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if path:
                    with open(path, "a", encoding="utf-8") as f:
                        iterations = int(self.model.optimizer.iterations.numpy())
                        f.write(f"{epoch},{logs['loss']!r},{iterations}\n")
                if sleep:
                    time.sleep(sleep)

        return EpochLog()


if __name__ == "__main__":
    sys.exit(main())
