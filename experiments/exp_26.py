"""## 26: EBlock: conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; InBlock: removed ResBlock."""

from experiments.exp_23 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_26",
    "EBlock: conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; InBlock: removed ResBlock",
    {
        "model.e_block.layout": ["conv", "act", "conv", "act"],
        "model.in_block.res_block": False,
    },
    note="26",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
