"""## 24: (unchanged) EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense; validation size: 32 => 256.

## 12 had already set the validation size to 256, so the config equals ## 20's.
"""

from experiments.exp_23 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_24",
    "(unchanged) EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense; validation size: 32 => 256",
    {
        "model.e_block.layout": ["act", "conv", "act", "conv"],
        "train.validation_trials": 256,
    },
    note="24",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
