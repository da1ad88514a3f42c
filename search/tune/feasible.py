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

from search.tracking import client as tracking
from search.tracking.callbacks import STATUS_KEY


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
        self.draws = 0
        self.alias: dict[str, str] = {}

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        ok = self.searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.searcher.metric, self.searcher.mode
        return ok

    def suggest(self, trial_id: str) -> dict | None:
        # Each draw gets its own id in the wrapped searcher (OptunaSearch keeps one Optuna
        # trial per id); the accepted draw's id is remembered for the Tune trial.
        for attempt in range(self.max_tries):
            draw_id = f"{trial_id}-draw{self.draws}"
            self.draws += 1
            config = self.searcher.suggest(draw_id)
            if not isinstance(config, dict):
                return config  # None (wait) or Searcher.FINISHED
            reason = self.check(config)
            if reason is None:
                self.alias[trial_id] = draw_id
                return config
            self.searcher.on_trial_complete(draw_id, None, error=True)
            self.rejected += 1
            self.recorder(f"{trial_id}-infeasible{attempt}", config, reason)
        raise RuntimeError(
            f"{self.max_tries} configurations in a row were infeasible: narrow the space "
            "(kernel sizes, strides, pools against the grid) or raise settings.max_memory_mb"
        )

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        """Not passed on: early stopping is ASHA's (Ray), so Optuna's per-epoch intermediate
        values (one SQLite write per epoch, for Optuna's own pruners) would be unused cost."""

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        inner_id = self.alias.get(trial_id, trial_id)
        if result and result.get(STATUS_KEY) == "failed":  # raised in the trainable: FAIL
            result, error = None, True
        self.searcher.on_trial_complete(inner_id, result=result, error=error)

    def get_state(self) -> dict:
        """The wrapper's own state (Ray saves the wrapped searcher separately)."""
        return {"alias": dict(self.alias), "draws": self.draws, "rejected": self.rejected}

    def set_state(self, state: dict) -> None:
        self.alias, self.draws = dict(state["alias"]), state["draws"]
        self.rejected = state["rejected"]

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
