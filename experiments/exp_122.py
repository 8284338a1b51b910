"""## 122: (furthur) FCBlock: used L2 norm before embeddings; triplet-margin: 0.5; removed cross entropy loss.

The flagship: L2-normalised embeddings, semi-hard triplet loss (from ## 108/109) with margin 0.5,
no cross-entropy.
"""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_122",
    "(furthur) FCBlock: used L2 norm before embeddings; triplet-margin: 0.5; removed cross entropy loss",
    {
        "model.fc.embedding_norm": "l2",
        "loss.triplet_margin": 0.5,
        "loss.cross_entropy_weight": 0.0,
    },
    note="122",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
