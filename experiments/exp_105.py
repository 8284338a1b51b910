"""## 105: Triplet Loss - margin: 1.0 => 2.0."""

from experiments.exp_104 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_105",
    "Triplet Loss - margin: 1.0 => 2.0",
    {
        "loss.triplet_margin": 2.0,
    },
    note="105",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
