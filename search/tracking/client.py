"""MLflow records of a search: one experiment per search, a parent run, one nested run per trial.

All writes happen in the driver (a Ray Tune ``Callback`` and the feasibility searcher), so a
SQLite store has a single writer and worker nodes need no access to the tracking store. A trial's
run is found again by its tag ``magvox.trial_id``, so a resumed search continues the same runs.

Trial run tags: ``magvox.status`` in STATUSES, ``magvox.reason`` (why infeasible or failed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

STATUSES = ("running", "completed", "pruned", "infeasible", "failed")
MLFLOW_STATUS = {"completed": "FINISHED", "pruned": "KILLED", "infeasible": "FAILED",
                 "failed": "FAILED"}
TRIAL_TAG = "magvox.trial_id"
STATUS_TAG = "magvox.status"
REASON_TAG = "magvox.reason"
NODE_TAG = "magvox.node"  # the Slurm node (or host) and Ray node a trial ran on
RESTARTS_TAG = "magvox.restarts"  # times Tune started the trial again after its worker died
RESTART_REASON_TAG = "magvox.restart_reason"  # what ended the last attempt
SKIP_METRICS = {"epoch", "training_iteration", "timestamp", "pid", "done", "time_this_iter_s",
                "time_total_s", "time_since_restore", "iterations_since_restore",
                "checkpoint_dir_name"}


def client(tracking_uri: str) -> Any:
    """An MlflowClient on ``tracking_uri`` (imported lazily: mlflow is slow to import)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def ensure_experiment(mlf: Any, name: str, artifact_root: Path | None) -> str:
    """The id of experiment ``name``, created with ``artifact_root`` if it does not exist."""
    exp = mlf.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = artifact_root.as_uri() if artifact_root else None
    # shown under "Model training" (runs, metrics, artifacts) rather than GenAI traces
    tags = {"mlflow.experimentKind": "custom_model_development"}
    return mlf.create_experiment(name, artifact_location=location, tags=tags)


def start_parent_run(mlf: Any, experiment_id: str, name: str, params: dict[str, Any]) -> str:
    """Create the search's parent run with its settings as params; return its id."""
    run = mlf.create_run(experiment_id, run_name=name, tags={"magvox.role": "search"})
    log_params(mlf, run.info.run_id, params)
    return run.info.run_id


def flat_params(params: dict[str, Any]) -> dict[str, str]:
    """Params as MLflow wants them: strings of at most 6000 characters, nested keys dotted."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            for sub, v in flat_params(value).items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = str(value)[:6000]
    return out


def log_params(mlf: Any, run_id: str, params: dict[str, Any],
               logged: set[str] | None = None) -> None:
    """Log params in batches, skipping keys already logged (a resumed run); ``logged`` (the keys
    the run has, e.g. none for a run just created) spares reading the run."""
    from mlflow.entities import Param

    have = mlf.get_run(run_id).data.params if logged is None else logged
    todo = [Param(k, v) for k, v in flat_params(params).items() if k not in have]
    for i in range(0, len(todo), 100):
        mlf.log_batch(run_id, params=todo[i : i + 100])


def numeric_metrics(row: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a result row (Tune bookkeeping keys left out)."""
    out = {}
    for key, value in row.items():
        if key in SKIP_METRICS or isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            out[prefix + key] = float(value)
    return out


def log_metrics(mlf: Any, run_id: str, metrics: dict[str, float], step: int = 0,
                tags: dict[str, str] | None = None) -> None:
    """Log a dict of metrics at one step, and ``tags``, in one batch (one store transaction)."""
    import time

    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    batch = [Metric(k, v, now, step) for k, v in metrics.items()]
    run_tags = [RunTag(k, v) for k, v in (tags or {}).items()]
    if batch or run_tags:
        mlf.log_batch(run_id, metrics=batch, tags=run_tags)


def find_trial_run(mlf: Any, experiment_id: str, trial_id: str) -> str | None:
    """The run id of the trial tagged ``trial_id``, or None."""
    runs = mlf.search_runs(
        [experiment_id], filter_string=f"tags.`{TRIAL_TAG}` = '{trial_id}'", max_results=1
    )
    return runs[0].info.run_id if runs else None


def trial_run(mlf: Any, experiment_id: str, parent_run_id: str, trial_id: str,
              look_up: bool = True) -> str:
    """The run of trial ``trial_id``, nested under the parent run; created if missing (with
    ``look_up`` False: created without searching, for a trial that cannot have one yet)."""
    run_id = find_trial_run(mlf, experiment_id, trial_id) if look_up else None
    if run_id:
        return run_id
    tags = {TRIAL_TAG: trial_id, STATUS_TAG: "running", "mlflow.parentRunId": parent_run_id}
    return mlf.create_run(experiment_id, run_name=trial_id, tags=tags).info.run_id


def run_status(mlf: Any, run_id: str) -> str | None:
    """The run's magvox status tag (one of STATUSES), or None if it has none."""
    return mlf.get_run(run_id).data.tags.get(STATUS_TAG)


def finish_run(mlf: Any, run_id: str, status: str, reason: str | None = None,
               metrics: dict[str, float] | None = None, step: int = 0) -> None:
    """Tag the run's magvox status (and reason), log its last ``metrics`` in the same batch,
    and end it with the matching MLflow status."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {STATUSES}")
    tags = {STATUS_TAG: status, **({REASON_TAG: reason[:5000]} if reason else {})}
    log_metrics(mlf, run_id, metrics or {}, step, tags)
    mlf.set_terminated(run_id, MLFLOW_STATUS.get(status, "FINISHED"))


def log_folder(mlf: Any, run_id: str, folder: Path) -> None:
    """Upload a trial's folder: filters (.npy, .png) under ``filters/``, the rest on top."""
    for path in sorted(Path(folder).iterdir()):
        if path.suffix in (".npy", ".png"):
            mlf.log_artifact(run_id, str(path), artifact_path="filters")
        elif path.suffix == ".json" or path.name == "model.pt":
            mlf.log_artifact(run_id, str(path))
