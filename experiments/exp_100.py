"""## 100: used Triplet Loss (batch_hard)."""

from experiments.exp_41 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_100",
    "used Triplet Loss (batch_hard)",
    {
        "loss.triplet": "hard",
        "loss.cross_entropy_weight": 0.0,
        "data.augment.enabled": False,
    },
    note="100",
    implied={
        "loss.cross_entropy_weight": "## 113 brings the one-hot labels (the OutBlock) back, so the triplet series starts without them",
        "data.augment.enabled": "## 125 'added DataPP': the triplet series after the '---' ran without it",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
