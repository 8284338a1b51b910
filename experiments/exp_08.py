"""## 08: (unchanged) FCBlock/dense1: number of features 512 => 1024."""

from experiments.exp_06 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_08",
    "(unchanged) FCBlock/dense1: number of features 512 => 1024",
    {
        "model.fc.width": 1024,
    },
    note="08",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
