"""## 02.1: added skip connection between Eblocks.

The skip between EBlocks is read as the "+Dense" concatenation of the pooled block input, the only
inter-block skip the original code has.
"""

from experiments.exp_01_2 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_02_1",
    "added skip connection between Eblocks",
    {
        "model.e_block.dense_skip": True,
    },
    note="02.1",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
