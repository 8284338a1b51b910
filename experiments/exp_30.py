"""## 30: out-channels: 256 => 512.

out-channels is the embedding size; at 512 the FCBlock residual of ## 03 becomes active.
"""

from experiments.exp_29 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_30",
    "out-channels: 256 => 512",
    {
        "model.embedding_dim": 512,
    },
    note="30",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
