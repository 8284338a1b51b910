"""## 12: Validation set size: 32 => 256.

Validation size is the number of validation trials scored for EER.
"""

from experiments.exp_10 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_12",
    "Validation set size: 32 => 256",
    {
        "train.validation_trials": 256,
    },
    note="12",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
