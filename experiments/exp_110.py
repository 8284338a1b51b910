"""## 110: retrained from 106 using batch_hard; out-channels: 64.

A side branch: ## 113 continues from ## 109, since ## 124 '(unchanged) used batch_hard' shows
that the entries before it were not batch-hard.
"""

from experiments.exp_106 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_110",
    "retrained from 106 using batch_hard; out-channels: 64",
    {
        "loss.triplet": "hard",
        "model.embedding_dim": 64,
    },
    note="110",
    warm_start="exp_106",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
