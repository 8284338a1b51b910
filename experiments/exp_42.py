"""## 42: (unchanged) lr exponential decay: 250 steps 0.99 rate."""

from experiments.exp_41 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_42",
    "(unchanged) lr exponential decay: 250 steps 0.99 rate",
    {
        "optim.decay_steps": 250,
        "optim.decay_rate": 0.99,
    },
    note="42",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
