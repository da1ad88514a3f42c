"""``magvox search status``'s table: one row per trial, best first, read from MLflow (so it works
while the search runs).

Columns: the trial id, its status, the parameters the sampler chose (the space's ``params``;
per-layer ones as ``name_i``), the search metric (the mean over folds) with its spread over
folds (and seeds), the epochs trained and the trial's wall seconds.
"""

from __future__ import annotations

import math
from typing import Any

from search.tracking import client as tracking
from search.tracking.report import metric_name, trial_runs
from search.tune.state import SearchRecord


def _sampled(record: SearchRecord, params: dict[str, str]) -> dict[str, str]:
    """The run's params that the space samples (``lr``, ``kernel_sizes_0``, ...)."""
    names = set(record.space.get("params", {}))
    out = {}
    for key, value in sorted(params.items()):
        base, _, index = key.rpartition("_")
        if key in names or (index.isdigit() and base in names):
            out[key] = _short(value)
    return out


def _short(value: str) -> str:
    """A param string with floats to 4 significant digits (0.0038680884 -> 0.003868)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else f"{number:.4g}"


def _epochs(mlf: Any, run: Any) -> int:
    """Epochs the trial has reported: the last step of its per-epoch validation loss."""
    history = mlf.get_metric_history(run.info.run_id, "val_loss")
    return max((int(h.step) for h in history), default=0)


def rows(record: SearchRecord) -> list[dict[str, Any]]:
    """One dict per trial run: trial, status, params, metric, metric_std, epochs, seconds;
    completed trials first by the metric (best first), then the others by status."""
    metric, mode = metric_name(record)
    mlf = tracking.client(record.tracking_uri)
    out = []
    for run in trial_runs(record):
        m = run.data.metrics
        out.append({
            "trial": run.data.tags.get(tracking.TRIAL_TAG, run.info.run_id[:8]),
            "status": run.data.tags.get(tracking.STATUS_TAG, "running"),
            "params": _sampled(record, run.data.params),
            metric: m.get(metric), f"{metric}_std": m.get(f"{metric}_std"),
            "epochs": _epochs(mlf, run),
            "seconds": m.get("trial_wall_s"),
        })
    sign = -1.0 if mode == "max" else 1.0

    def key(row: dict[str, Any]) -> tuple:
        value = row[metric]
        scored = row["status"] in ("completed", "pruned", "running") and value is not None
        return (row["status"] != "completed", not scored,
                sign * value if scored else math.inf, row["trial"])

    return sorted(out, key=key)


def _cell(value: Any, std: Any = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.3f}"
    return f"{text} +- {std:.3f}" if std is not None else text


def render(record: SearchRecord, table: list[dict[str, Any]]) -> str:
    """The rows as an aligned plain-text table."""
    metric, _ = metric_name(record)
    names = sorted({k for row in table for k in row["params"]})
    head = ["trial", "status", *names, metric, "epochs", "s"]
    lines = [[row["trial"], row["status"], *(row["params"].get(n, "-") for n in names),
              _cell(row[metric], row[f"{metric}_std"]), str(row["epochs"]),
              "-" if row["seconds"] is None else f"{row['seconds']:.0f}"] for row in table]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r) for r in [head, *lines])
