"""## 119: (unchanged) FCBlock: added BatchNorm before embeddings."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_119",
    "(unchanged) FCBlock: added BatchNorm before embeddings",
    {
        "model.fc.embedding_norm": "batch",
    },
    note="119",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
