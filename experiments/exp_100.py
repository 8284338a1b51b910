"""## 100: used Triplet Loss (batch_hard).

The second series (after the notes' '---') is the late code the reference README describes:
it trained on the first 512 speaker folders (the first series used 256) and saved and served
the 0.999 exponential moving average of the weights, so both start here and carry to ## 128.
"""

from experiments.exp_41 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_100",
    "used Triplet Loss (batch_hard)",
    {
        "loss.triplet": "hard",
        "loss.cross_entropy_weight": 0.0,
        "data.augment.enabled": False,
        "data.max_train_speakers": 512,
        "optim.ema": 0.999,
    },
    note="100",
    implied={
        "loss.cross_entropy_weight": "## 113 brings the one-hot labels (the OutBlock) back, so the triplet series starts without them",
        "data.augment.enabled": "## 125 'added DataPP': the triplet series after the '---' ran without it",
        "data.max_train_speakers": "reference README: early entries used the first 256 speaker folders, "
        "later 512; the second series is the later one",
        "optim.ema": "reference README: the 0.999 EMA of the weights is what the (late) code saved and "
        "served; the second series is that code",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
