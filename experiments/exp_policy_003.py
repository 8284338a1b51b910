"""## 125 with reference 003's augmentation policy instead of DataPP's.

Reference 003 ("Data Augs"): the regular signal 10 % of the time, otherwise one random
augmentation or, with probability 0.5, two ("p_no_aug": .1, "p_two_aug": .5). Here the
augmentations are DataPP's parts (noise, amplitude, smoothing), each applied for sure
when chosen. The parent is ## 125, the kept entry that "added DataPP", so the two differ
only in the policy: `speaker-tf diff exp_125 exp_policy_003`.
"""

from experiments.exp_125 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_policy_003",
    "## 125 with reference 003's policy: 10 % clean, else one or two random augmentations",
    {
        "data.augment.policy": "clean_one_two",
        "data.augment.p_clean": 0.1,
        "data.augment.p_two": 0.5,
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
