"""## 39: Data: added random Gaussian noise; Data: random amplitude.

Noise std 0.025 is the early value of the original code; smoothing and multi-step come in ## 40-41.
"""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_39",
    "Data: added random Gaussian noise; Data: random amplitude",
    {
        "data.augment.enabled": True,
        "data.augment.noise": True,
        "data.augment.amplitude": True,
        "data.augment.smoothing": False,
        "data.augment.multi_step_noise": False,
        "data.augment.p_noise_smooth": 0.0,
        "data.augment.noise_std": 0.025,
    },
    note="39",
    implied={
        "data.augment.smoothing": "## 39 adds only noise and amplitude; ## 40 adds smoothing",
        "data.augment.multi_step_noise": "## 41 adds multi-step noise, so ## 39 adds one noise layer",
        "data.augment.p_noise_smooth": "## 40 adds smoothing to the noise, so ## 39's noise is white",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
