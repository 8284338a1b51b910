"""## 109: out-channels: 128; Used batch_semi_hard."""

from experiments.exp_108 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_109",
    "out-channels: 128; Used batch_semi_hard",
    {
        "model.embedding_dim": 128,
        "loss.triplet": "semihard",
    },
    note="109",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
