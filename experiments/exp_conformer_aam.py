"""Conformer encoder with an additive angular margin head (reference 004).

Reference 004 trained a Conformer speaker encoder on log-mel features with an
ArcFace-style loss and tuned it with Optuna to EER 4.1 %; its best trial used
scale 48.1, margin 0.356 and learning rate 9.06e-4 (taken here) and a 2048-wide
embedding (256 here: the embedded corpus has 200 training speakers).
"""

from speaker_tf.config.experiment import root
from speaker_tf.training.entry import run_experiment

EXPERIMENT = root(
    "exp_conformer_aam",
    "Conformer on log-mel + additive angular margin softmax (reference 004)",
    {
        "model.network": "conformer",
        "model.frontend.kind": "logmel",
        "model.frontend.n_mels": 80,
        "model.pooling": "attentive_stats",
        "model.embedding_dim": 256,
        "model.head.kind": "aam",
        "model.head.aam_scale": 48.0,
        "model.head.aam_margin": 0.35,
        "loss.triplet": "none",
        "loss.cross_entropy_weight": 0.0,
        "loss.aam_weight": 1.0,
        "loss.aam_margin_warmup_steps": 2000,
        "optim.optimizer": "adam",
        "optim.learning_rate": 9e-4,
        "optim.schedule": "warmup_cosine",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
