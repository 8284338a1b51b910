"""## 40: Data: added smoothing; Data: added more randomness and smoothing to noise generation.

More randomness in the noise is read as the later std 0.01 drawn per sample.
"""

from experiments.exp_39 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_40",
    "Data: added smoothing; Data: added more randomness and smoothing to noise generation",
    {
        "data.augment.smoothing": True,
        "data.augment.p_noise_smooth": 0.8,
        "data.augment.noise_std": 0.01,
    },
    note="40",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
