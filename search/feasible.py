"""Reject impossible configurations before they cost a trial, and record them.

``FeasibleSearch`` wraps Ray's ``OptunaSearch`` the way Ray's own ``ConcurrencyLimiter`` wraps a
searcher: each suggestion is checked on the driver with models' validation and memory estimate;
an infeasible one is told to Optuna as FAIL (TPE then ignores it), logged to MLflow as a nested
run with status ``infeasible`` and the reason, and another suggestion is drawn. Tune only ever
starts feasible trials, so ``--trials N`` counts trials that train.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ray.tune.search import Searcher

from search import tracking


class FeasibleSearch(Searcher):
    """A searcher that only passes on configurations ``check`` accepts.

    Args:
        searcher: the wrapped searcher (OptunaSearch).
        check: config -> None if feasible, else the reason (a string naming the field).
        recorder: called with (record_id, config, reason) for each rejected configuration.
        max_tries: consecutive rejections after which the space is declared unusable.
    """

    def __init__(self, searcher: Searcher, check: Callable[[dict], str | None],
                 recorder: Callable[[str, dict, str], None], max_tries: int = 200) -> None:
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher = searcher
        self.check = check
        self.recorder = recorder
        self.max_tries = max_tries
        self.rejected = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        ok = self.searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.searcher.metric, self.searcher.mode
        return ok

    def suggest(self, trial_id: str) -> dict | None:
        for attempt in range(self.max_tries):
            config = self.searcher.suggest(trial_id)
            if not isinstance(config, dict):
                return config  # None (wait) or Searcher.FINISHED
            reason = self.check(config)
            if reason is None:
                return config
            self.searcher.on_trial_complete(trial_id, None, error=True)
            self.rejected += 1
            self.recorder(f"{trial_id}-infeasible{attempt}", config, reason)
        raise RuntimeError(
            f"{self.max_tries} configurations in a row were infeasible: narrow the space "
            "(kernel sizes, strides, pools against the grid) or raise settings.max_memory_mb"
        )

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)


class MlflowInfeasibleRecorder:
    """Record a rejected configuration as a finished nested MLflow run (picklable: ids only)."""

    def __init__(self, tracking_uri: str, experiment_id: str, parent_run_id: str) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id

    def __call__(self, record_id: str, config: dict, reason: str) -> None:
        mlf = tracking.client(self.tracking_uri)
        run_id = tracking.trial_run(mlf, self.experiment_id, self.parent_run_id, record_id)
        tracking.log_params(mlf, run_id, config)
        tracking.finish_run(mlf, run_id, "infeasible", reason)
