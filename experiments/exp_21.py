"""## 21: (furthur) EBlock: added activation after 2nd conv."""

from experiments.exp_20 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_21",
    "(furthur) EBlock: added activation after 2nd conv",
    {
        "model.e_block.layout": ["act", "conv", "act", "conv", "act"],
    },
    note="21",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
