"""## 29: InBlocks/channels: 32; EBlocks/channels: 32, 32, 32, 48, 48, 48, 48, 64, 64, 64."""

from experiments.exp_28 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_29",
    "InBlocks/channels: 32; EBlocks/channels: 32, 32, 32, 48, 48, 48, 48, 64, 64, 64",
    {
        "model.in_block.channels": 32,
        "model.e_block.channels": [32, 32, 32, 48, 48, 48, 48, 64, 64, 64],
    },
    note="29",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
