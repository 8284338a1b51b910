"""## 126: (unchanged) based on ## 122; added DataPP."""

from experiments.exp_122 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_126",
    "(unchanged) based on ## 122; added DataPP",
    {
        "data.augment.enabled": True,
    },
    note="126",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
