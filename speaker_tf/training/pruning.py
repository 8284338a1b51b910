"""The Keras side of an Optuna trial: report validation EER, stop a trial the pruner gives up on."""

from __future__ import annotations

from typing import Any

import keras
import optuna


class PruningCallback(keras.callbacks.Callback):
    """Reports each evaluated epoch's `val_eer` to the trial and asks the pruner whether to go on.

    A pruned trial stops fitting at the end of that epoch and `optuna.TrialPruned` is
    raised in `on_train_end`: that runs after the run's own callbacks closed their files
    and removed their backup (this callback comes last), and before the final evaluation
    and export, which a pruned trial does not need.
    """

    def __init__(self, trial: Any) -> None:
        super().__init__()
        self.trial = trial
        self.pruned_at: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not logs or "val_eer" not in logs:
            return  # an epoch without evaluation
        self.trial.report(float(logs["val_eer"]), step=epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned after epoch {self.pruned_at + 1}")
