"""## 04: (unchanged/furthur) replace avg pooling with max pooling.

"(unchanged/furthur)" is read as tried, reverted, flagged for later: the original code pools by average.
"""

from experiments.exp_03 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_04",
    "(unchanged/furthur) replace avg pooling with max pooling",
    {
        "model.pooling": "max",
    },
    note="04",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
