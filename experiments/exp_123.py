"""## 123: (unchanged) FCBlock: used L2 norm before embeddings; triplet-margin: 0.5; added cross entropy loss."""

from experiments.exp_122 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_123",
    "(unchanged) FCBlock: used L2 norm before embeddings; triplet-margin: 0.5; added cross entropy loss",
    {
        "loss.cross_entropy_weight": 1.0,
    },
    note="123",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
