"""ASHA whose stops are saved at once.

Tune saves its experiment state at most every ``TUNE_GLOBAL_CHECKPOINT_S`` (1 s here,
``search.tune.runner``) unless something forces a save: a trial checkpoint does, an ASHA stop
does not. The MLflow callback marks a stopped trial ``pruned`` in the same controller step, so a
driver killed within the second after a stop left MLflow saying "pruned" and Tune's state saying
"running": the restored search trained the trial again and logged its epochs twice. Forcing the
save in the step of the stop closes that window to the save itself.
"""

from __future__ import annotations

from typing import Any

from ray.tune.schedulers import ASHAScheduler


def force_state_save(tune_controller: Any) -> bool:
    """Ask Tune to save its experiment state at the end of this controller step; False where
    this Tune has no such switch (a newer Ray: the save then waits for its period, as before)."""
    manager = getattr(tune_controller, "_checkpoint_manager", None)
    if manager is None or not hasattr(manager, "_should_force_sync_up"):
        return False
    manager._should_force_sync_up = True
    return True


class SavedStopsASHA(ASHAScheduler):
    """``ASHAScheduler`` that forces an experiment-state save in the step it stops a trial."""

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        decision = super().on_trial_result(tune_controller, trial, result)
        if decision == self.STOP:
            force_state_save(tune_controller)
        return decision
