"""## 28: InBlocks/channels: 32; EBlocks/channels: 16, 32, 32, 48, 48, 48, 64, 64, 64, 64."""

from experiments.exp_27 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_28",
    "InBlocks/channels: 32; EBlocks/channels: 16, 32, 32, 48, 48, 48, 64, 64, 64, 64",
    {
        "model.in_block.channels": 32,
        "model.e_block.channels": [16, 32, 32, 48, 48, 48, 64, 64, 64, 64],
    },
    note="28",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
