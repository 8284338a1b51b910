"""## 17: (unchanged) EBlock: removed 1x1 bottleneck layer."""

from experiments.exp_16 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_17",
    "(unchanged) EBlock: removed 1x1 bottleneck layer",
    {
        "model.e_block.layout": ["act", "conv"],
    },
    note="17",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
