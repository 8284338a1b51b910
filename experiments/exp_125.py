"""## 125: based on ## 116; added DataPP."""

from experiments.exp_116 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_125",
    "based on ## 116; added DataPP",
    {
        "data.augment.enabled": True,
    },
    note="125",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
