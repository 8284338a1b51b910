"""## 107: (unchanged) out-channels: 128."""

from experiments.exp_106 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_107",
    "(unchanged) out-channels: 128",
    {
        "model.embedding_dim": 128,
    },
    note="107",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
