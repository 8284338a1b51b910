"""## 102: used Triplet Loss (batch_all)."""

from experiments.exp_101 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_102",
    "used Triplet Loss (batch_all)",
    {
        "loss.triplet": "all",
    },
    note="102",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
