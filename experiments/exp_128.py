"""## 128: Batch All without negative distance.

Margin <= 0 turns batch-all into the mean anchor-positive distance.
"""

from experiments.exp_127 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_128",
    "Batch All without negative distance",
    {
        "loss.triplet": "all",
        "loss.triplet_soft": False,
        "loss.triplet_margin": 0.0,
    },
    note="128",
    implied={
        "loss.triplet_soft": "soft margin belongs to batch-hard; batch-all has none",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
