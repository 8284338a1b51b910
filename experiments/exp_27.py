"""## 27: EBlocks/ResBlocks: 0, 1, 1, 2, 2, 2, 3, 3, 3, 3."""

from experiments.exp_26 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_27",
    "EBlocks/ResBlocks: 0, 1, 1, 2, 2, 2, 3, 3, 3, 3",
    {
        "model.e_block.res_blocks": [0, 1, 1, 2, 2, 2, 3, 3, 3, 3],
    },
    note="27",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
