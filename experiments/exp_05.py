"""## 05: (unchanged/furthur) learning rate: 1e-3 => 4e-4.

Reverted like ## 04: the original code trains at 1e-3.
"""

from experiments.exp_03 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_05",
    "(unchanged/furthur) learning rate: 1e-3 => 4e-4",
    {
        "optim.learning_rate": 0.0004,
    },
    note="05",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
