"""## 114: (unchanged) OutBlock: act -> dense -> act -> dense."""

from experiments.exp_113 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_114",
    "(unchanged) OutBlock: act -> dense -> act -> dense",
    {
        "model.head.kind": "act_dense_act_dense",
    },
    note="114",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
