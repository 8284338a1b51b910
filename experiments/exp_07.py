"""## 07: (unchanged) removed 1 dense layer in FCBlock."""

from experiments.exp_06 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_07",
    "(unchanged) removed 1 dense layer in FCBlock",
    {
        "model.fc.layers": 1,
    },
    note="07",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
