"""Validation loss: the run's embedding loss terms on held-out speakers.

Validation speakers are not training speakers, so terms on the classifier's
logits (cross-entropy, AAM) have no value there; the embedding terms (triplet,
supervised contrastive) do. They are computed on the embeddings the
verification callback made for the EER (no second pass), in fixed P x K
batches drawn once, so epochs compare. A term logs as `val_<term>_loss`,
beside the training `<term>_loss`; `val_loss` is logged only when every term
of the run is an embedding term (otherwise it would not be the training loss's
counterpart).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np

from speaker_tf.evaluation.callback import VerificationCallback
from speaker_tf.training.objectives import Term


def fixed_batches(
    speakers: Sequence[str], p: int, k: int, n_batches: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_batches` of (row indices, int labels): min(p, #speakers) speakers x k rows each.

    Speakers with fewer than k rows repeat rows (as the training sampler does).
    Empty when there are fewer than two speakers.
    """
    names, labels = np.unique(np.asarray(speakers), return_inverse=True)
    if len(names) < 2:
        return []
    rng = np.random.default_rng(seed)
    rows = [np.flatnonzero(labels == s) for s in range(len(names))]
    out = []
    for _ in range(n_batches):
        chosen = rng.choice(len(names), size=min(p, len(names)), replace=False)
        index = np.concatenate([rng.permutation(rows[s])[np.arange(k) % len(rows[s])] for s in chosen])
        out.append((index, labels[index].astype(np.int32)))
    return out


class ValidationLoss(keras.callbacks.Callback):
    """Adds `val_<term>_loss` (and `val_loss` when all terms are embedding terms) to the epoch logs.

    Place it right after `verification` and before the callbacks that log.
    """

    def __init__(
        self,
        verification: VerificationCallback,
        terms: Mapping[str, Term],
        speakers_per_batch: int,
        utterances_per_speaker: int,
        n_batches: int = 8,
        seed: int = 0,
    ):
        super().__init__()
        self.verification = verification
        self.terms = {name: term for name, term in terms.items() if term.source == "embedding"}
        self.complete = len(self.terms) == len(terms)
        speakers = [u.split("/")[0] for u in verification.utterances]
        self.batches = fixed_batches(speakers, speakers_per_batch, utterances_per_speaker, n_batches, seed)

    def losses(self, embeddings: np.ndarray) -> dict[str, float]:
        """Each embedding term averaged over the fixed batches, and the weighted total when complete."""
        values = {}
        for name, term in self.terms.items():
            per_batch = [
                float(keras.ops.convert_to_numpy(term.loss(labels, embeddings[index].astype("float32"))))
                for index, labels in self.batches
            ]
            values[f"val_{name}_loss"] = float(np.mean(per_batch))
        if self.complete and values:
            values["val_loss"] = sum(t.weight * values[f"val_{n}_loss"] for n, t in self.terms.items())
        return values

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or "val_eer" not in logs or not self.batches or not self.terms:
            return  # not an evaluated epoch
        logs.update(self.losses(self.verification.last_embeddings))
