"""VerificationCallback on a tiny Keras model with clearly clustered synthetic speakers."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from speaker_tf.errors import CorpusError
from speaker_tf.evaluation.callback import VerificationCallback
from speaker_tf.evaluation.scoring import Trial

DIM = 16
N_SPEAKERS = 4


def _data(seed=0):
    """Gaussian "speakers": well separated centres, 6 utterances each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_SPEAKERS, DIM)) * 3.0
    labels = np.repeat(np.arange(N_SPEAKERS), 6)
    x = (centres[labels] + 0.3 * rng.normal(size=(len(labels), DIM))).astype(np.float32)
    waveforms = {f"spk{y}/utt{i}.wav": x[i] for i, y in enumerate(labels)}
    keys = list(waveforms)
    trials = [
        Trial(int(labels[i] == labels[j]), keys[i], keys[j])
        for i in range(len(keys))
        for j in range(i + 1, len(keys))
    ]
    return x, labels, waveforms, trials


def _models():
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(8)], name="encoder")
    classifier = keras.Sequential([encoder, keras.layers.Dense(N_SPEAKERS, activation="softmax")])
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return encoder, classifier


def test_callback_logs_eer_feeds_checkpoint_and_writes_tensorboard(tmp_path):
    import tensorflow as tf

    x, y, waveforms, trials = _data()
    encoder, classifier = _models()
    log_dir = str(tmp_path / "logs")
    ckpt = tmp_path / "best.keras"
    callbacks = [
        VerificationCallback(encoder, waveforms, trials, log_dir=log_dir, batch_size=5),
        keras.callbacks.ModelCheckpoint(str(ckpt), monitor="val_eer", mode="min", save_best_only=True),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = classifier.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert not [w for w in caught if "val_eer" in str(w.message)], [str(w.message) for w in caught]
    assert ckpt.is_file()
    for key in ("val_eer", "val_min_dcf", "val_min_dcf_p05"):
        assert len(history.history[key]) == 2
    assert history.history["val_eer"][-1] < 0.5
    assert 0.0 <= history.history["val_min_dcf"][-1] <= 1.0

    events = list((tmp_path / "logs" / "validation").glob("events.out.tfevents.*"))
    assert events
    steps: dict[str, list[int]] = {}
    for event in tf.compat.v1.train.summary_iterator(str(events[0])):
        for value in event.summary.value:
            steps.setdefault(value.tag, []).append(event.step)
    # Only the DET image: the scalars reach TensorBoard through the logs (one name each),
    # at the optimizer step like every other summary: 24 examples / batch 8 = 3 steps an epoch.
    assert steps == {"det_curve": [3, 6]}


def test_callback_with_plain_callable_every_two_epochs():
    x, y, waveforms, trials = _data(seed=1)
    calls = []

    def embed(batch):
        calls.append(batch.shape)
        return batch  # the features already cluster by speaker

    cb = VerificationCallback(embed, waveforms, trials, every_n_epochs=2, batch_size=10)
    logs: dict = {}
    cb.on_epoch_end(0, logs)
    assert logs == {} and not calls
    cb.on_epoch_end(1, logs)
    assert calls == [(10, DIM), (10, DIM), (4, DIM)]  # 24 utterances, each embedded once
    assert logs["val_eer"] < 0.05


def test_callback_validates_inputs():
    _, _, waveforms, trials = _data()
    with pytest.raises(CorpusError, match="spk0/utt0.wav"):
        VerificationCallback(
            lambda b: b, {k: v for k, v in waveforms.items() if k != "spk0/utt0.wav"}, trials
        )
    uneven = dict(waveforms)
    uneven["spk0/utt1.wav"] = np.zeros(DIM + 1, np.float32)
    with pytest.raises(ValueError, match="one length"):
        VerificationCallback(lambda b: b, uneven, trials)
    with pytest.raises(ValueError, match="non-target"):
        VerificationCallback(lambda b: b, waveforms, [t for t in trials if t.label == 1])
