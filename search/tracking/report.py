"""Reading a search back from MLflow: progress, the best trial, and logging the best model."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from search.tracking import client as tracking
from search.tune.sampling import trial_dict
from search.tune.space import space_from_dict
from search.tune.state import SearchRecord


def trial_runs(record: SearchRecord) -> list[Any]:
    """All trial runs (nested runs) of the search, oldest first."""
    mlf = tracking.client(record.tracking_uri)
    runs = mlf.search_runs([record.experiment_id],
                           filter_string=f"tags.mlflow.parentRunId = '{record.parent_run_id}'",
                           max_results=5000, order_by=["attributes.start_time ASC"])
    return list(runs)


def metric_name(record: SearchRecord) -> tuple[str, str]:
    """The search's (metric, mode)."""
    settings = record.space["settings"]
    return settings["metric"], settings["mode"]


def best_run(record: SearchRecord) -> Any | None:
    """The completed trial run with the best final metric, or None if none completed."""
    metric, mode = metric_name(record)
    done = [r for r in trial_runs(record)
            if r.data.tags.get(tracking.STATUS_TAG) == "completed" and metric in r.data.metrics]
    if not done:
        return None
    pick = max if mode == "max" else min
    return pick(done, key=lambda r: r.data.metrics[metric])


def status(record: SearchRecord) -> dict[str, Any]:
    """Progress of a search: trials per status, the best so far, the record's own status."""
    runs = trial_runs(record)
    counts = Counter(r.data.tags.get(tracking.STATUS_TAG, "running") for r in runs)
    best = best_run(record)
    metric, _ = metric_name(record)
    return {
        "name": record.name, "status": record.status, "sampler": record.sampler,
        "trials_planned": record.trials,
        "trials": {s: counts.get(s, 0) for s in tracking.STATUSES},
        "best": None if best is None else {
            "trial": best.data.tags.get(tracking.TRIAL_TAG),
            metric: best.data.metrics[metric],
            f"{metric}_std": best.data.metrics.get(f"{metric}_std"),
            "run_id": best.info.run_id},
        "tracking_uri": record.tracking_uri, "experiment_id": record.experiment_id,
    }


def trial_fields(record: SearchRecord, run: Any) -> dict[str, Any]:
    """The TrialConfig fields the search set for a trial run (from its MLflow params)."""
    space = space_from_dict(record.space)
    params = {k: parse_param(v) for k, v in run.data.params.items()}
    return trial_dict(space, params)


def best_config(record: SearchRecord, run: Any) -> dict[str, Any]:
    """The full TrialConfig of a trial run, as plain data (``TrialConfig.from_dict`` reads it)."""
    from models.trial import TrialConfig

    return TrialConfig.from_dict(trial_fields(record, run)).to_dict()


def train_command(fields: dict[str, Any]) -> str:
    """The ``magvox train`` command line that re-runs a trial with these fields."""
    import shlex

    fields = dict(fields)
    parts = ["magvox", "train", "--preset", str(fields.pop("preset", "seed-base"))]
    for key, value in fields.items():
        if isinstance(value, tuple | list):
            value = "[" + ",".join(str(v) for v in value) + "]"
        parts += ["--set", f"{key}={value}"]
    return shlex.join(parts)


def parse_param(value: str) -> Any:
    """MLflow param strings back to numbers / lists where they were."""
    import yaml

    try:
        return yaml.safe_load(value.replace("(", "[").replace(")", "]"))
    except yaml.YAMLError:
        return value


TEST_ARTIFACT = "test_split.json"


def load_test(record: SearchRecord) -> dict[str, Any] | None:
    """The test-split report logged on the parent run (``{"report": ..., "text": ...}``), or
    None when the search has not been scored on it yet."""
    import json

    mlf = tracking.client(record.tracking_uri)
    names = [f.path for f in mlf.list_artifacts(record.parent_run_id)]
    if TEST_ARTIFACT not in names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = mlf.download_artifacts(record.parent_run_id, TEST_ARTIFACT, tmp)
        report = json.loads(Path(path).read_text())
    return {"report": report, "text": report["text"]}


def test_report(record: SearchRecord, run: Any) -> dict[str, Any]:
    """The best trial's configuration scored once on the dataset's held-out test split, beside
    both baselines (models.evaluate), logged on the parent run; read back on later calls."""
    import json
    import os

    import torch

    from models.evaluate import score_test_split

    found = load_test(record)
    if found is not None and found["report"].get("trial_run_id") == run.info.run_id:
        return found
    torch.set_num_threads(os.cpu_count() or 1)
    seeds = int(record.extra.get("final_seeds", 1))  # assess: the selection's seed spread
    report = score_test_split(best_config(record, run), record.dataset, seeds=seeds)
    looks = log_look(record, report.test_composites)
    data = {**report.to_dict(), "trial_run_id": run.info.run_id,
            "trial": run.data.tags.get(tracking.TRIAL_TAG), "text": report.line(),
            "test_split_scorings": looks}
    mlf = tracking.client(record.tracking_uri)
    tracking.log_metrics(mlf, record.parent_run_id, report.flat())
    mlf.set_tag(record.parent_run_id, "magvox.test_verdict", report.verdict())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / TEST_ARTIFACT
        path.write_text(json.dumps(data, indent=1))
        mlf.log_artifact(record.parent_run_id, str(path))
    return {"report": data, "text": data["text"]}


def _stores(dataset: str) -> list[Any]:
    """The stores whose recorded test split a dataset uses ([] for a nested-CV fold view)."""
    from data_prep.dataset.store import open_dataset

    ds = open_dataset(dataset)
    if getattr(ds, "overrides_test_split", False):
        return []
    return list(getattr(ds, "stores", [ds]))


def log_look(record: SearchRecord, scored: list[str]) -> dict[str, int]:
    """Log this scoring of the test split in each store's holdout.json; -> store -> scorings
    recorded so far (none for a nested-CV outer fold, which holds out its own composites)."""
    import sys

    from data_prep.dataset.holdout import log_scoring

    command = " ".join(["magvox", *sys.argv[1:]])
    return {str(s.path): log_scoring(s.path, command, scored, search=record.name)
            for s in _stores(record.dataset)}


def test_looks(dataset: str) -> dict[str, int]:
    """store -> how many scorings of its test split holdout.json records."""
    from data_prep.dataset.holdout import scorings

    return {str(s.path): len(scorings(s.path)) for s in _stores(dataset)}


BEST_MODEL = "best_model"


def train_grid(record: SearchRecord) -> tuple[int, int, int]:
    """The training grid (Nx, Ny, Nz) of the search's dataset, from its stores' metadata: what a
    network is built on (a model file that records no grid is rebuilt on this one)."""
    from data_prep.dataset.store import open_dataset

    return tuple(open_dataset(record.dataset).train_grid)


def log_best_model(record: SearchRecord, mlf: Any, run: Any) -> None:
    """Log the best trial's network on the parent run as plain files, with its metrics:
    ``best_model/model.pt`` (weights, input scale and the flat TrialConfig; read back by
    ``models.saved.load_model``, ``torch.load(weights_only=True)``: loading runs no code) and
    ``best_model/config.yaml``. No pickle: a model from a shared store cannot execute anything."""
    import yaml

    from models.saved import load_model

    metrics = {f"best_{k}": v for k, v in run.data.metrics.items()}
    tracking.log_metrics(mlf, record.parent_run_id, metrics)
    mlf.set_tag(record.parent_run_id, "magvox.best_trial", run.data.tags.get(tracking.TRIAL_TAG))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(mlf.download_artifacts(run.info.run_id, "model.pt", tmp))
        _, config = load_model(path, train_grid(record))  # refuse a file that does not load
        (Path(tmp) / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
        for name in ("model.pt", "config.yaml"):
            mlf.log_artifact(record.parent_run_id, str(Path(tmp) / name), BEST_MODEL)
