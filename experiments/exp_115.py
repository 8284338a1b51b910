"""## 115: (unchanged) OutBlock: dense -> act -> dense."""

from experiments.exp_113 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_115",
    "(unchanged) OutBlock: dense -> act -> dense",
    {
        "model.head.kind": "dense_act_dense",
    },
    note="115",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
