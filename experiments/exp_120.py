"""## 120: (unchanged) FCBlock: used LayerNorm before embeddings; triplet-margin: 2.0."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_120",
    "(unchanged) FCBlock: used LayerNorm before embeddings; triplet-margin: 2.0",
    {
        "model.fc.embedding_norm": "layer",
        "loss.triplet_margin": 2.0,
    },
    note="120",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
