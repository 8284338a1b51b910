"""## 01.1: plain network with ResBlocks in between.

Root of the notes' first series. "Plain network with ResBlocks in between": no
normalisation, no SEUnits, no skip connections (+Dense, FCBlock residual), ReLU, one ResBlock
per EBlock. Everything else is the original code's state before the later notes changed it:
InBlock 1x3 (## 14 changes it), EBlock 1x4 (## 16 says 1x4 => 1x3), a ResBlock in the InBlock
(## 26 removes it), 32 channels everywhere (## 19 changes them), embedding ("out-channels")
256 (## 30: 256 => 512), batch 32 of 16 speakers x 2 utterances and 2 s crops (reference
README), validation on 32 trials (## 12: 32 => 256), cross-entropy only, no augmentation
(## 39-41 add it), the first 256 speaker folders (reference README: early entries 256, later
512, which ## 100 sets), no weight EMA (the facts give it for the late code, which ## 100 turns on).
"""

from speaker_tf.config.experiment import root
from speaker_tf.training.entry import run_experiment

EXPERIMENT = root(
    "exp_01_1",
    "plain network with ResBlocks in between",
    {
        "model.res_block.norm": "none",
        "model.res_block.se": False,
        "model.e_block.se": [],
        "model.e_block.dense_skip": False,
        "model.fc.residual": False,
        "model.activation": "relu",
        "model.in_block.kernel": 3,
        "model.e_block.kernel": 4,
        "model.in_block.res_block": True,
        "model.in_block.channels": 32,
        "model.e_block.channels": [32, 32, 32, 32, 32, 32, 32, 32, 32, 32],
        "model.e_block.res_blocks": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "model.e_block.layout": ["act", "conv", "act", "conv"],
        "model.embedding_dim": 256,
        "model.pooling": "avg",
        "data.speakers_per_batch": 16,
        "data.utterances_per_speaker": 2,
        "data.crop_seconds": 2.0,
        "train.validation_trials": 32,
        "loss.triplet": "none",
        "loss.cross_entropy_weight": 1.0,
        "data.augment.enabled": False,
        "optim.ema": 0.0,
        "data.max_train_speakers": 256,
    },
    note="01.1",
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
