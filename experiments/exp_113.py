"""## 113: FCBlock: Embeddings; OutBlock: One-hot labels; FCBlock: act -> dense -> act -> dense; OutBlock: act -> dense.

Cross-entropy on the OutBlock logits next to the semi-hard triplet loss of ## 109. The new
OutBlock has no dropout (## 06's was on the old one); ## 117 and ## 118 try it on this one.
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
        "model.head.dropout": 0.0,
    },
    note="113",
    implied={
        "model.head.dropout": "## 113 redefines the OutBlock (act -> dense); the dropout ## 06 put before "
        "the old OutBlock's dense layer is not part of it: ## 117 / 118 try dropout on this OutBlock"
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
