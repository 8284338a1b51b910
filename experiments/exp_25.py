"""## 25: (unchanged) EBlock: act -> conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; improved loss summary logging.

The logging part is always on in this toolkit.
"""

from experiments.exp_23 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_25",
    "(unchanged) EBlock: act -> conv -> act -> conv -> act -> ResBlock -> SEUnit +Dense; improved loss summary logging",
    {
        "model.e_block.layout": ["act", "conv", "act", "conv", "act"],
    },
    note="25",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
