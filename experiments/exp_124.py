"""## 124: (unchanged) used batch_hard."""

from experiments.exp_122 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_124",
    "(unchanged) used batch_hard",
    {
        "loss.triplet": "hard",
    },
    note="124",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
