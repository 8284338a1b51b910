"""In-graph, stateless waveform augmentation: DataPP and the recipes' augmentation.

One module per kind: `datapp` (the notes' DataPP), `speed` (speed perturbation
with new speaker labels), `reverb` (room impulse responses), `noise` (coloured,
babble, folder noise), `channel` (band limit, EQ, tilt, telephone, codecs);
`policy` says what is applied with which probability, and in which order.
`ops` holds the shared stateless draws and FFT helpers, `folders` reads
user-given RIR / noise folders.
"""

from speaker_tf.data.augment.datapp import (
    MAX_KERNEL_RADIUS,
    _white_noise,  # noqa: F401  (tested directly)
    add_noise,
    augment,
    gaussian_kernel,
    gaussian_smooth,
    random_gain,
)
from speaker_tf.data.augment.policy import Sources, build_sources, robust_augment, speed_factors

__all__ = [
    "MAX_KERNEL_RADIUS",
    "Sources",
    "add_noise",
    "augment",
    "build_sources",
    "gaussian_kernel",
    "gaussian_smooth",
    "random_gain",
    "robust_augment",
    "speed_factors",
]
