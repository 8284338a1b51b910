"""## 15: [model2] DenseNet; InBlock: 32; EBlock: 2*16+2*32+64*6.

model2 is a separate network; ## 16 continues model1 from ## 14.
"""

from experiments.exp_14 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_15",
    "[model2] DenseNet; InBlock: 32; EBlock: 2*16+2*32+64*6",
    {
        "model.network": "densenet",
        "model.in_block.channels": 32,
        "model.densenet.layers": [2, 2, 6],
        "model.densenet.stage_growth": [16, 32, 64],
    },
    note="15",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
