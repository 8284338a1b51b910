"""## 33: fixed duplicate forward/backward passes in logging steps; EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense.

Back to pre-activation, which the note finds better than post-activation.
"""

from experiments.exp_31 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_33",
    "fixed duplicate forward/backward passes in logging steps; EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense",
    {
        "model.e_block.layout": ["act", "conv", "act", "conv"],
    },
    note="33",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
