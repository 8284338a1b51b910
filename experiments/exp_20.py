"""## 20: (EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense) Activation: Swish."""

from experiments.exp_19 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_20",
    "(EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense) Activation: Swish",
    {
        "model.activation": "swish",
        "model.e_block.layout": ["act", "conv", "act", "conv"],
    },
    note="20",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
