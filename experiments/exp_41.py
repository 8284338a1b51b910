"""## 41: Data: added multi-step noise addition."""

from experiments.exp_40 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_41",
    "Data: added multi-step noise addition",
    {
        "data.augment.multi_step_noise": True,
    },
    note="41",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
