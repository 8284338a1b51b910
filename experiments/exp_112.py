"""## 112: (empty entry).

The note is empty; the module keeps the numbering and repeats ## 109.
"""

from experiments.exp_109 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_112",
    "(empty entry)",
    {},
    note="112",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
