"""## 111: retrained from 105 using batch_hard; out-channels: 256.

A side branch, like ## 110.
"""

from experiments.exp_105 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_111",
    "retrained from 105 using batch_hard; out-channels: 256",
    {
        "loss.triplet": "hard",
        "model.embedding_dim": 256,
    },
    note="111",
    warm_start="exp_105",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
