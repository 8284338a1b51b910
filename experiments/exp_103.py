"""## 103: EBlocks/channels: 32, 32, 32, 48, 48, 48, 48, 64, 64, 64; out-channels: 256."""

from experiments.exp_102 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_103",
    "EBlocks/channels: 32, 32, 32, 48, 48, 48, 48, 64, 64, 64; out-channels: 256",
    {
        "model.e_block.channels": [32, 32, 32, 48, 48, 48, 48, 64, 64, 64],
        "model.embedding_dim": 256,
        "model.e_block.res_blocks": [0, 1, 1, 2, 2, 2, 3, 3, 3, 3],
    },
    note="103",
    implied={
        "model.e_block.res_blocks": "ten EBlocks again need ## 27's ten ResBlock counts",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
