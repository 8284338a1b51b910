"""## 116: OutBlock: dense."""

from experiments.exp_113 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_116",
    "OutBlock: dense",
    {
        "model.head.kind": "dense",
    },
    note="116",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
