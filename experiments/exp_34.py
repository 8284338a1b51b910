"""## 34: (unchanged) EBlock: bn -> act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense."""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_34",
    "(unchanged) EBlock: bn -> act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense",
    {
        "model.e_block.layout": ["bn", "act", "conv", "act", "conv"],
    },
    note="34",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
