"""## 127: Batch Hard with soft margin."""

from experiments.exp_125 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_127",
    "Batch Hard with soft margin",
    {
        "loss.triplet": "hard",
        "loss.triplet_soft": True,
    },
    note="127",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
