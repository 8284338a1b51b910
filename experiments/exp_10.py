"""## 10: added SEUnit to residuals in EBlocks."""

from experiments.exp_09 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_10",
    "added SEUnit to residuals in EBlocks",
    {
        "model.e_block.se": ["after_res"],
    },
    note="10",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
