"""## 37: (unchanged) generator-wd: 1e-6 => 1e-5."""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_37",
    "(unchanged) generator-wd: 1e-6 => 1e-5",
    {
        "model.weight_decay": 1e-05,
    },
    note="37",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
