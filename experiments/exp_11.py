"""## 11: (unchanged) added SEUnit after first conv in EBlocks."""

from experiments.exp_10 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_11",
    "(unchanged) added SEUnit after first conv in EBlocks",
    {
        "model.e_block.se": "after_first_conv",
    },
    note="11",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
