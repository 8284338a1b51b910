"""## 13: (unchanged/furthur) batch size: 32 => 64.

64 = 32 speakers x 2 utterances (the group size stays 2).
"""

from experiments.exp_12 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_13",
    "(unchanged/furthur) batch size: 32 => 64",
    {
        "data.speakers_per_batch": 32,
    },
    note="13",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
