"""## 22: (furthur) EBlock: removed activation before 1st conv."""

from experiments.exp_21 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_22",
    "(furthur) EBlock: removed activation before 1st conv",
    {
        "model.e_block.layout": ["conv", "act", "conv", "act"],
    },
    note="22",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
