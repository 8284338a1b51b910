"""Conformer encoder with an additive angular margin head (reference 004).

Reference 004 trained a Conformer speaker encoder on log-mel features with an
ArcFace-style loss and tuned it with Optuna to EER 4.1 %; its best trial used
scale 48.1487, margin 0.3565, learning rate 9.0635e-4 and a 2048-wide embedding,
taken here (to three significant figures). The `cpu` profile shrinks the embedding
to 256 for its budget on the embedded corpus (200 training speakers) and prints so;
`--profile full` keeps 2048.
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
        "model.embedding_dim": 2048,
        "model.head.kind": "aam",
        "model.head.aam_scale": 48.1,
        "model.head.aam_margin": 0.356,
        "loss.triplet": "none",
        "loss.cross_entropy_weight": 0.0,
        "loss.aam_weight": 1.0,
        "loss.aam_margin_warmup_steps": 2000,
        "optim.optimizer": "adam",
        "optim.learning_rate": 9.06e-4,
        "optim.schedule": "warmup_cosine",
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
