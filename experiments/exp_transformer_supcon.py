"""Transformer encoder with supervised contrastive loss (reference 000).

Reference 000: class-balanced batches of 128 (K speakers x C utterances: 32 x 4
here, C = 4 being the notes' group size), a CLS token, post-LayerNorm blocks and
gradient clipping at 1.0 (run 3; a clip of the global norm of all gradients, as
PyTorch's clip_grad_norm_ does), layer norm before the projection, supervised
contrastive loss, warm-up (10 %) + cosine learning rate from 1e-4 to a 1e-5 floor
(run 4), EER every epoch. Temperature 0.1 (the log's "0.05 and maybe higher" was
not run). The `cpu` profile uses 16 x 4 batches.
"""

from speaker_tf.config.experiment import root
from speaker_tf.training.entry import run_experiment

EXPERIMENT = root(
    "exp_transformer_supcon",
    "Transformer (CLS token) on log-mel + supervised contrastive loss (reference 000)",
    {
        "model.network": "transformer",
        "model.frontend.kind": "logmel",
        "model.frontend.n_mels": 80,
        "model.transformer.pooling": "cls",
        "model.transformer.norm": "post",
        "model.embedding_dim": 128,
        "model.fc.embedding_norm": "l2",
        "loss.triplet": "none",
        "loss.cross_entropy_weight": 0.0,
        "loss.supcon_weight": 1.0,
        "loss.supcon_temperature": 0.1,
        "optim.optimizer": "adam",
        "optim.learning_rate": 1e-4,
        "optim.schedule": "warmup_cosine",
        "optim.warmup_fraction": 0.1,
        "optim.floor": 0.1,
        "optim.global_clipnorm": 1.0,
        "data.speakers_per_batch": 32,
        "data.utterances_per_speaker": 4,
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
