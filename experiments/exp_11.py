"""## 11: (unchanged) added SEUnit after first conv in EBlocks.

"added": the SEUnit after the first conv comes in addition to the one ## 10 put on the
ResBlock output, so both placements are on.
"""

from experiments.exp_10 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_11",
    "(unchanged) added SEUnit after first conv in EBlocks",
    {
        "model.e_block.se": ["after_first_conv", "after_res"],
    },
    note="11",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
