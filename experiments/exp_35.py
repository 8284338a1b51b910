"""## 35: (unchanged) EBlock: act -> conv -> bn -> act -> conv -> ResBlock -> SEUnit +Dense."""

from experiments.exp_33 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_35",
    "(unchanged) EBlock: act -> conv -> bn -> act -> conv -> ResBlock -> SEUnit +Dense",
    {
        "model.e_block.layout": ["act", "conv", "bn", "act", "conv"],
    },
    note="35",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
