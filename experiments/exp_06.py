"""## 06: added dropout=0.5 before the last dense layer.

The last dense layer is the OutBlock's (reference README: OutBlock = optional dropout -> dense).
"""

from experiments.exp_03 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_06",
    "added dropout=0.5 before the last dense layer",
    {
        "model.head.dropout": 0.5,
    },
    note="06",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
