"""## 32: (unchanged) generator-wd: 1e-6 => 1e-4."""

from experiments.exp_31 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_32",
    "(unchanged) generator-wd: 1e-6 => 1e-4",
    {
        "model.weight_decay": 0.0001,
    },
    note="32",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
