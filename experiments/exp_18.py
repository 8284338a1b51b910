"""## 18: (unchanged) ResBlock: removed batch norm."""

from experiments.exp_16 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_18",
    "(unchanged) ResBlock: removed batch norm",
    {
        "model.res_block.norm": "none",
    },
    note="18",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
