"""## 117: (unchanged) OutBlock dropout: 0.5."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_117",
    "(unchanged) OutBlock dropout: 0.5",
    {
        "model.head.dropout": 0.5,
    },
    note="117",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
