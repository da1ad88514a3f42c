"""The Ray Tune callback that writes every trial to MLflow, from the driver.

Per trial: params (the Tune config), per-epoch metrics (step = epoch), then at the end final
metrics, baselines, the artifacts the trainable put in its last checkpoint (filters.npy,
model.pt, result.json; the filter pictures follow from a background thread,
``search.tracking.pictures``,
or at the end of the search for short trials)
and the status: completed, pruned (stopped by ASHA), failed (with the
exception as reason). A trial that Tune started again after its worker died is tagged with the
number of restarts and the last one's cause. Infeasible configurations never reach Tune;
``search.tune.feasible`` records them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from ray.tune import Callback

from search.tracking import client as tracking
from search.tracking.pictures import PictureQueue

STATUS_KEY = "trial_status"
NODE_KEY = "node"  # where the trial runs (search.tune.trainable.node_name): MLflow tag magvox.node
FINAL_PREFIXES = ("final_", "baseline_", "trial_wall_s", "train_s", "compute_s", "report_s")
# pictures of a trial at least this long are drawn while the search runs; shorter trials get theirs
# at the end of the search (search.tracking.pictures.draw_missing): drawing them (~0.1 s of CPU per
# filter)
# beside the next trial slowed a 2 s trial by 0.3-0.5 s on 2 cores, more than the whole service
LIVE_PICTURES_MIN_S = 20.0


class MlflowTrialCallback(Callback):
    """Log Tune trials as nested MLflow runs under the search's parent run.

    Only ids and the URI are pickled with the experiment, so the callback survives Tuner.restore.
    """

    def __init__(self, tracking_uri: str, experiment_id: str, parent_run_id: str) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self._client: Any = None
        self._runs: dict[str, str] = {}
        self._nodes: dict[str, str] = {}  # trial id -> node tagged
        self._pictures = PictureQueue(tracking_uri)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_client", "_runs", "_nodes", "_pictures")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # unpickled = restored with an interrupted search: its trials may have runs already
        self.__dict__.update(state, _client=None, _runs={}, _nodes={}, _restored=True,
                             _pictures=PictureQueue(state["tracking_uri"]))

    @property
    def mlf(self) -> Any:
        if self._client is None:
            self._client = tracking.client(self.tracking_uri)
        return self._client

    def run_id(self, trial: Any) -> str:
        """The MLflow run of ``trial`` (found by tag or created, then cached)."""
        if trial.trial_id not in self._runs:
            self._runs[trial.trial_id] = tracking.trial_run(
                self.mlf, self.experiment_id, self.parent_run_id, trial.trial_id,
                look_up=getattr(self, "_restored", False),
            )
        return self._runs[trial.trial_id]

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        fresh = trial.trial_id not in self._runs and not getattr(self, "_restored", False)
        tracking.log_params(self.mlf, self.run_id(trial), dict(trial.config),
                            logged=set() if fresh else None)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        if result.get(STATUS_KEY):  # the final row: logged in on_trial_complete
            return
        step = int(result.get("epoch", result.get("training_iteration", 0)))
        node = result.get(NODE_KEY)
        tags = {}
        if node and self._nodes.get(trial.trial_id) != node:  # tagged with the first epoch
            tags[tracking.NODE_TAG] = self._nodes[trial.trial_id] = node
        tracking.log_metrics(self.mlf, self.run_id(trial), tracking.numeric_metrics(result), step,
                             tags)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        last = trial.last_result or {}
        status = last.get(STATUS_KEY) or "pruned"
        run_id = self.run_id(trial)
        if tracking.run_status(self.mlf, run_id) == status:
            # a trial restored from its final checkpoint after a driver kill reports its final
            # row again: it is in MLflow already
            return
        final = {}
        if status == "completed":
            final = {k: v for k, v in tracking.numeric_metrics(last).items()
                     if k.startswith(FINAL_PREFIXES)}
            self._log_checkpoint(trial, run_id,
                                 live_pictures=last.get("trial_wall_s", 0) >= LIVE_PICTURES_MIN_S)
        tracking.finish_run(self.mlf, run_id, status, last.get("reason"), final,
                            int(last.get("epoch", 0)))

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """The trial's worker or node died; Tune starts it again from its last checkpoint."""
        restarts = int(getattr(trial.run_metadata, "num_failures", 1))
        tracking.log_metrics(self.mlf, self.run_id(trial), {}, 0, {
            tracking.RESTARTS_TAG: str(restarts),
            tracking.RESTART_REASON_TAG: error_reason(trial)[:5000]})

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        tracking.finish_run(self.mlf, self.run_id(trial), "failed", error_reason(trial))

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self._pictures.wait()

    def _log_checkpoint(self, trial: Any, run_id: str, live_pictures: bool) -> None:
        if trial.checkpoint is None:
            return
        with trial.checkpoint.as_directory() as folder:
            tracking.log_folder(self.mlf, run_id, Path(folder))
            kernels = Path(folder) / "filters.npy"
            if live_pictures and kernels.is_file():  # drawn by a background thread
                self._pictures.submit(run_id, np.load(kernels))


def error_reason(trial: Any) -> str:
    """The last lines of the trial's error file (the exception), or a generic message."""
    path = trial.error_file
    if path and Path(path).is_file():
        return exception_lines(Path(path).read_text())
    return "trial failed (no error file)"


EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b")


def exception_lines(text: str) -> str:
    """Two lines of a Tune error file: its last exception line with the last unindented line
    after it, or (Ray's ActorDiedError has no exception line) the first and last unindented
    lines below the ``Failure # N`` header: what died, and why."""
    lines = [line for line in text.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if EXCEPTION_LINE.match(line)]
    if starts:
        detail = [line for line in lines[starts[-1] + 1:] if not line[0].isspace()]
        return "\n".join([lines[starts[-1]], *detail[-1:]])
    plain = [line for line in lines if not line[0].isspace() and not line.startswith("Failure #")]
    if not plain:
        return "\n".join(lines[-3:])
    return "\n".join(dict.fromkeys([plain[0], plain[-1]]))
