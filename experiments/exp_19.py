"""## 19: InBlock/channels: 64; EBlock/channels: 32, 32, 48, 48, 48, 48, 48, 48, 48, 48."""

from experiments.exp_16 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_19",
    "InBlock/channels: 64; EBlock/channels: 32, 32, 48, 48, 48, 48, 48, 48, 48, 48",
    {
        "model.in_block.channels": 64,
        "model.e_block.channels": [32, 32, 48, 48, 48, 48, 48, 48, 48, 48],
    },
    note="19",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
