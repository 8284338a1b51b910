"""## 113: FCBlock: Embeddings; OutBlock: One-hot labels; FCBlock: act -> dense -> act -> dense; OutBlock: act -> dense.

Cross-entropy on the OutBlock logits next to the semi-hard triplet loss of ## 109.
"""

from experiments.exp_109 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_113",
    "FCBlock: Embeddings; OutBlock: One-hot labels; FCBlock: act -> dense -> act -> dense; OutBlock: act -> dense",
    {
        "loss.cross_entropy_weight": 1.0,
        "model.head.kind": "act_dense",
        "model.fc.layers": 2,
    },
    note="113",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
