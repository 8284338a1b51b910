"""## 31: fixed incorrect loss logging and summary.

A logging fix: same config as ## 30.
"""

from experiments.exp_30 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_31",
    "fixed incorrect loss logging and summary",
    {},
    note="31",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
