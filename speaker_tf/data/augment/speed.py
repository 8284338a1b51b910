"""Speed perturbation that makes new speakers, as the Kaldi, WeSpeaker and SpeechBrain recipes do.

Speed factor f plays a signal f times faster: y(t) = x(f t), band-limited
(resampled by the FFT method, `ops.resample`), so the length becomes n / f and
every frequency (pitch and formants) moves by f, like `sox speed`. A speaker
at factor index i (its position in `RobustConfig.speed_factors`) is a new
speaker: label l becomes l + i * n_labels (Ko et al., "Audio augmentation for
speech recognition", Interspeech 2015, for the perturbation; the new-label
convention is the speaker recipes'). The pipeline samples P x K batches over
these n_labels x len(factors) speakers, so a batch's K crops of a speaker
all have the same factor.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from speaker_tf.data.augment.ops import resample

__all__ = ["MAX_SPEED", "MIN_SPEED", "change_speed", "check_factors", "input_length", "speed_label"]

MIN_SPEED, MAX_SPEED = 0.5, 2.0


def check_factors(factors: Sequence[float]) -> None:
    """ValueError unless the factors are distinct numbers in [MIN_SPEED, MAX_SPEED]."""
    if len(factors) == 0:
        raise ValueError("data.robust.speed_factors must not be empty; use [1.0] for no speed perturbation")
    for f in factors:
        if not MIN_SPEED <= f <= MAX_SPEED:
            raise ValueError(f"data.robust.speed_factors: {f!r} is outside [{MIN_SPEED}, {MAX_SPEED}]")
    if len(set(factors)) != len(factors):
        raise ValueError(f"data.robust.speed_factors has repeated factors: {list(factors)}")


def input_length(length: int, factor: float) -> int:
    """Samples of input that a `length`-sample output at speed `factor` consumes."""
    return max(1, int(round(length * factor)))


def change_speed(x: tf.Tensor, factor: tf.Tensor | float, length: tf.Tensor | int | None = None) -> tf.Tensor:
    """x played `factor` times faster: round(n / factor) samples (or `length`), frequencies x factor."""
    x = tf.convert_to_tensor(x, tf.float32)
    if length is None:
        n = tf.cast(tf.shape(x)[0], tf.float32)
        length = tf.maximum(tf.cast(tf.round(n / tf.cast(factor, tf.float32)), tf.int32), 1)
    return resample(x, length)


def speed_label(label: tf.Tensor, factor_index: tf.Tensor, n_labels: int) -> tf.Tensor:
    """The new speaker label of `label` at factor index i: label + i * n_labels."""
    return label + tf.cast(factor_index, label.dtype) * n_labels
