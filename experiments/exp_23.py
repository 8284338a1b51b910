"""## 23: EBlock: conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; validation size: 32 => 256.

## 12 had already set the validation size to 256, so the config equals ## 22's.
"""

from experiments.exp_22 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_23",
    "EBlock: conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; validation size: 32 => 256",
    {
        "model.e_block.layout": ["conv", "act", "conv", "act"],
        "train.validation_trials": 256,
    },
    note="23",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
