"""The callbacks of a training run, in the order they must run."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from speaker_tf.config.base import ExperimentConfig
from speaker_tf.data.audio import load_audio, peak_normalise
from speaker_tf.evaluation.callback import VerificationCallback
from speaker_tf.evaluation.scoring import trial_utterances
from speaker_tf.training.objectives import loss_terms
from speaker_tf.training.run_dir import RunDir
from speaker_tf.training.splits import Split
from speaker_tf.training.tensorboard import RunTensorBoard
from speaker_tf.training.validation_loss import ValidationLoss


def build(
    run: RunDir, config: ExperimentConfig, encoder: keras.Model, val: Split
) -> list[keras.callbacks.Callback]:
    """Backup -> EMA swap -> validation EER and loss -> logging -> checkpoints -> stopping rules.

    Order matters: the backup holds the training weights, the EMA weights must be in
    place while validating, and `val_eer` must be in the logs before ModelCheckpoint /
    EarlyStopping read it.
    """
    train = config.train
    trials = val.trials[: train.validation_trials]
    # First, so it backs up the training weights before SwapEMAWeights swaps the EMA ones in.
    # Keras restores a backup at the start of its epoch, so a mid-epoch backup would replay
    # that epoch's first steps; backing up at epoch ends keeps every step once.
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(str(run.backup), save_freq="epoch")
    ]
    if config.optim.ema > 0:
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    waveforms = load_fixed_length(
        val.root, trial_utterances(trials), config.data.eval_seconds, config.data.sample_rate
    )
    verification = VerificationCallback(
        encoder, waveforms, trials, every_n_epochs=train.eval_every_epochs, log_dir=str(run.log_dir)
    )
    callbacks += [
        verification,
        ValidationLoss(
            verification,
            loss_terms(config),
            config.data.speakers_per_batch,
            config.data.utterances_per_speaker,
            seed=train.seed,
        ),
        ProjectorCallback(encoder, waveforms, run.log_dir),
        RunTensorBoard(run.log_dir, update_freq=max(1, train.steps_per_epoch // 20)),
        keras.callbacks.CSVLogger(str(run.path / "training_log.csv"), append=True),
        keras.callbacks.ModelCheckpoint(
            str(run.checkpoints / "best.weights.h5"),
            monitor="val_eer",
            mode="min",
            save_best_only=True,
            save_weights_only=True,
        ),
        keras.callbacks.ModelCheckpoint(
            str(run.checkpoints / "latest.weights.h5"),
            save_weights_only=True,
            save_freq=train.checkpoint_every_steps,
        ),
    ]
    if train.early_stopping_patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_eer", mode="min", patience=train.early_stopping_patience
            )
        )
    if config.optim.reduce_on_plateau:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_eer", mode="min", factor=0.5, patience=2)
        )
    return callbacks


def load_fixed_length(
    root: Path, utterances: list[str], seconds: float, sample_rate: int
) -> dict[str, np.ndarray]:
    """The first `seconds` of each peak-normalised utterance, zero-padded.

    0 s means the first 8 s, as the original's inference did.
    """
    length = int(round((seconds or 8.0) * sample_rate))
    out = {}
    for utt in utterances:
        wav = peak_normalise(load_audio(Path(root) / utt, sample_rate, mono="error", resample=False))[:length]
        out[utt] = np.pad(wav, (0, length - wav.shape[0]))
    return out


class ProjectorCallback(keras.callbacks.Callback):
    """At the end of training, write validation embeddings with speaker labels for TensorBoard's projector.

    TensorBoard looks for a projector config only in folders that hold event
    files (and in the logdir itself), so `logs/projector/` gets one: a text
    summary saying what the points are.
    """

    def __init__(self, encoder: keras.Model, waveforms: dict[str, np.ndarray], log_dir: Path):
        super().__init__()
        self.encoder = encoder
        self.waveforms = waveforms
        self.log_dir = Path(log_dir)

    def on_train_end(self, logs=None):
        import tensorflow as tf
        from tensorboard.plugins import projector

        names = sorted(self.waveforms)
        batch = np.stack([self.waveforms[n] for n in names])
        emb = np.concatenate(
            [self.encoder.predict_on_batch(batch[i : i + 64]) for i in range(0, len(batch), 64)]
        )
        folder = self.log_dir / "projector"
        folder.mkdir(parents=True, exist_ok=True)
        speakers = [n.split("/")[0] for n in names]
        (folder / "metadata.tsv").write_text(
            "speaker\tutterance\n" + "".join(f"{s}\t{n}\n" for s, n in zip(speakers, names, strict=True)),
            encoding="utf-8",
        )
        checkpoint = tf.train.Checkpoint(embedding=tf.Variable(emb, name="validation_embeddings"))
        checkpoint.save(str(folder / "embedding.ckpt"))
        settings = projector.ProjectorConfig()
        entry = settings.embeddings.add()
        entry.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
        entry.metadata_path = "metadata.tsv"
        projector.visualize_embeddings(str(folder), settings)
        step = int(self.model.optimizer.iterations.numpy()) if self.model is not None else 0
        writer = tf.summary.create_file_writer(str(folder))
        with writer.as_default(step=step):
            tf.summary.text(
                "projector",
                f"{len(names)} validation utterances of {len(set(speakers))} speakers, embedded after "
                f"step {step}: open the Projector tab (colour by speaker)",
            )
        writer.close()
