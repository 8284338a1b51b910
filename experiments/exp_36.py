"""## 36: (unchanged) Batch Renorm."""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_36",
    "(unchanged) Batch Renorm",
    {
        "model.res_block.norm": "batch_renorm",
    },
    note="36",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
