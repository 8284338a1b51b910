"""## 101: EBlocks/channels: 32, 32, 32, 32, 32, 32, 32; out-channels: 128."""

from experiments.exp_100 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_101",
    "EBlocks/channels: 32, 32, 32, 32, 32, 32, 32; out-channels: 128",
    {
        "model.e_block.channels": [32, 32, 32, 32, 32, 32, 32],
        "model.embedding_dim": 128,
        "model.e_block.res_blocks": [0, 1, 1, 2, 2, 2, 3],
    },
    note="101",
    implied={
        "model.e_block.res_blocks": "seven EBlocks need seven ResBlock counts: the first seven of ## 27's",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
