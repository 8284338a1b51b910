"""## 03: added skip connection to FCBlock; correctly calculate accuracy.

The residual needs embedding_dim == fc.width; at 256 it is skipped, as in the original code,
which adds it only when the embedding is 512 wide (from ## 30 on). The accuracy fix has no config.
"""

from experiments.exp_02_2 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_03",
    "added skip connection to FCBlock; correctly calculate accuracy",
    {
        "model.fc.residual": True,
    },
    note="03",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
