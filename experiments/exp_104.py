"""## 104: Triplet Loss - margin: 0.5 => 1.0."""

from experiments.exp_103 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_104",
    "Triplet Loss - margin: 0.5 => 1.0",
    {
        "loss.triplet_margin": 1.0,
    },
    note="104",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
