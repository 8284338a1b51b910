"""## 02.2: removed BatchNorm in EBlocks."""

from experiments.exp_02_1 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_02_2",
    "removed BatchNorm in EBlocks",
    {
        "model.e_block.layout": ["act", "conv", "act", "conv"],
    },
    note="02.2",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
