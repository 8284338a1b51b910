"""Keras callback that measures verification EER / minDCF on held-out trials.

Typical use::

    cb = VerificationCallback(encoder, waveforms, trials, log_dir=run_dir + "/logs")
    model.fit(..., callbacks=[cb,
                              keras.callbacks.ModelCheckpoint(path, monitor="val_eer", mode="min",
                                                              save_best_only=True),
                              keras.callbacks.EarlyStopping(monitor="val_eer", mode="min")])

ORDER MATTERS: Keras passes one ``logs`` dict to the callbacks in list order,
so this callback must come *before* any callback that reads ``val_eer`` /
``val_min_dcf`` (ModelCheckpoint, EarlyStopping, ReduceLROnPlateau,
TensorBoard, CSVLogger). TensorBoard writes the scalars from those logs (as
``epoch_eer``, ``epoch_min_dcf``, ``epoch_min_dcf_p05`` of the ``validation``
run); this callback's ``log_dir`` adds only the DET image, so each value has
one name. With ``every_n_epochs > 1`` the keys are absent on
skipped epochs; monitoring callbacks then skip those epochs (ModelCheckpoint
warns), so pair it with ``every_n_epochs=1`` for checkpoint selection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from speaker_tf.errors import CorpusError
from speaker_tf.evaluation.metrics import compute_eer, compute_min_dcf
from speaker_tf.evaluation.scoring import Trial, cosine_scores, trial_utterances

__all__ = ["VerificationCallback"]


class VerificationCallback(keras.callbacks.Callback):
    """Embed validation utterances once per evaluated epoch and log EER / minDCF.

    Args:
        encoder: a ``keras.Model`` (run with ``predict_on_batch``, i.e. inference
            mode: dropout off, batch-norm moving statistics) or any callable
            mapping a float32 batch ``[N, samples]`` to ``[N, D]`` (NumPy or tensor).
        waveforms: utterance id -> 1-D waveform, all the same length (crop/pad
            beforehand so every batch has one shape and the graph is traced once).
        trials: validation trials; only utterances they use are embedded.
        every_n_epochs: evaluate after epochs N, 2N, ... (1-based).
        log_dir: if set, also write a DET image with ``tf.summary`` to
            ``log_dir/validation``, at the optimizer step (the number of
            batches trained) as the TensorBoard callbacks do; epoch + 1 when
            the model has no optimizer.
        batch_size: utterances per encoder call.

    Adds to the epoch logs: ``val_eer`` (fraction), ``val_min_dcf`` (p_target
    0.01) and ``val_min_dcf_p05`` (p_target 0.05). ``last_embeddings`` holds the
    embeddings of ``utterances`` from the last evaluation.
    """

    def __init__(
        self,
        encoder: keras.Model | Callable[[np.ndarray], Any],
        waveforms: Mapping[str, np.ndarray],
        trials: Sequence[Trial],
        every_n_epochs: int = 1,
        log_dir: str | None = None,
        batch_size: int = 64,
    ) -> None:
        super().__init__()
        if not callable(encoder):
            raise ValueError(f"encoder must be a keras.Model or a callable, got {type(encoder).__name__}")
        if int(every_n_epochs) < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs!r}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        trials = list(trials)
        if not trials:
            raise ValueError("trials is empty")
        labels = np.array([t.label for t in trials])
        if labels.min() == labels.max():
            raise ValueError("validation trials need both target (1) and non-target (0) trials")
        self.encoder = encoder
        self.trials = trials
        self.every_n_epochs = int(every_n_epochs)
        self.log_dir = log_dir
        self.batch_size = int(batch_size)
        self.utterances = trial_utterances(trials)
        rows = []
        for u in self.utterances:
            if u not in waveforms:
                raise CorpusError(f"no validation waveform for utterance {u!r} used in the trials")
            w = np.asarray(waveforms[u], dtype=np.float32)
            if w.ndim != 1:
                raise ValueError(f"waveform {u!r} must be 1-D, got shape {w.shape}")
            if rows and w.shape != rows[0].shape:
                raise ValueError(
                    f"waveform {u!r} has {w.shape[0]} samples but {self.utterances[0]!r} has "
                    f"{rows[0].shape[0]}; crop/pad validation audio to one length"
                )
            rows.append(w)
        self._audio = np.stack(rows)
        self._labels = labels
        self._writer = None
        self.last_scores: np.ndarray | None = None
        self.last_embeddings: np.ndarray | None = None

    def _embed(self) -> np.ndarray:
        is_model = isinstance(self.encoder, keras.Model)
        out = []
        for i in range(0, self._audio.shape[0], self.batch_size):
            batch = self._audio[i : i + self.batch_size]
            # predict_on_batch runs the model in inference mode inside a compiled function.
            emb = self.encoder.predict_on_batch(batch) if is_model else self.encoder(batch)
            out.append(np.asarray(keras.ops.convert_to_numpy(emb), dtype=np.float64))
        return np.concatenate(out)

    def evaluate(self) -> dict[str, float]:
        """Embed, score and return ``{"val_eer", "val_min_dcf", "val_min_dcf_p05"}``."""
        emb = self._embed()
        if emb.ndim != 2 or emb.shape[0] != len(self.utterances):
            raise ValueError(
                f"encoder returned shape {emb.shape} for {len(self.utterances)} utterances; expected [N, D]"
            )
        scores = cosine_scores(dict(zip(self.utterances, emb, strict=True)), self.trials)
        self.last_scores = scores
        self.last_embeddings = emb
        eer, _ = compute_eer(scores, self._labels)
        dcf1, _ = compute_min_dcf(scores, self._labels, p_target=0.01)
        dcf5, _ = compute_min_dcf(scores, self._labels, p_target=0.05)
        return {"val_eer": eer, "val_min_dcf": dcf1, "val_min_dcf_p05": dcf5}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs != 0:
            return
        results = self.evaluate()
        if logs is not None:
            logs.update(results)
        if self.log_dir:
            self._write_summaries(epoch, results)

    def _step(self, epoch: int) -> int:
        optimizer = getattr(self.model, "optimizer", None) if self.model is not None else None
        if optimizer is not None and hasattr(optimizer, "iterations"):
            return int(keras.ops.convert_to_numpy(optimizer.iterations))
        return epoch + 1

    def _write_summaries(self, epoch: int, results: dict[str, float]) -> None:
        import tensorflow as tf

        from speaker_tf.evaluation.plots import det_plot_png

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir.rstrip("/") + "/validation")
        step = self._step(epoch)
        title = f"DET after epoch {epoch + 1} (step {step}), EER {100 * results['val_eer']:.2f} %"
        image = tf.io.decode_png(det_plot_png(self.last_scores, self._labels, title=title), channels=4)[None]
        with self._writer.as_default(step=step):
            tf.summary.image("det_curve", image)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
