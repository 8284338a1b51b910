"""## 14: (require reinvestigate) InBlock/conv2d kernel: 1x3 => 1x7; EBlock/conv2d kernel: 1x4 => 1x7."""

from experiments.exp_12 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_14",
    "(require reinvestigate) InBlock/conv2d kernel: 1x3 => 1x7; EBlock/conv2d kernel: 1x4 => 1x7",
    {
        "model.in_block.kernel": 7,
        "model.e_block.kernel": 7,
    },
    note="14",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
