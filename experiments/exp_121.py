"""## 121: (unchanged) FCBlock: used LayerNorm before embeddings; triplet-margin: 0.5."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_121",
    "(unchanged) FCBlock: used LayerNorm before embeddings; triplet-margin: 0.5",
    {
        "model.fc.embedding_norm": "layer",
        "loss.triplet_margin": 0.5,
    },
    note="121",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
