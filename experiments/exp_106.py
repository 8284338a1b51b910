"""## 106: out-channels: 64."""

from experiments.exp_105 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_106",
    "out-channels: 64",
    {
        "model.embedding_dim": 64,
    },
    note="106",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
