"""## 01.2: added BatchNorm to ResBlocks and EBlocks.

BatchNorm in the EBlock is placed before each activation of the pre-activation path.
"""

from experiments.exp_01_1 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_01_2",
    "added BatchNorm to ResBlocks and EBlocks",
    {
        "model.res_block.norm": "batch",
        "model.e_block.layout": ["bn", "act", "conv", "bn", "act", "conv"],
    },
    note="01.2",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
