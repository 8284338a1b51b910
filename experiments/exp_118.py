"""## 118: (unchanged) OutBlock dropout: 0.9."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_118",
    "(unchanged) OutBlock dropout: 0.9",
    {
        "model.head.dropout": 0.9,
    },
    note="118",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
