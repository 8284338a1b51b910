"""## 108: out-channels: 64; Used batch_semi_hard."""

from experiments.exp_106 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_108",
    "out-channels: 64; Used batch_semi_hard",
    {
        "model.embedding_dim": 64,
        "loss.triplet": "semihard",
    },
    note="108",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
