"""## 09: added SEUnit to residuals in ResBlocks."""

from experiments.exp_06 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_09",
    "added SEUnit to residuals in ResBlocks",
    {
        "model.res_block.se": True,
    },
    note="09",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
