"""## 38: (unchanged) removed Batch Norm."""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_38",
    "(unchanged) removed Batch Norm",
    {
        "model.res_block.norm": "none",
    },
    note="38",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
