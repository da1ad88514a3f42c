"""Warm start: a new search tries the best configurations of an earlier one first.

    points = warm_points("default-tpe", root, space, k=3)   # -> enqueued before the space's own

The k best completed trials of the earlier search (by its own metric) give their sampled values;
each becomes a point the new search's sampler evaluates first (Optuna's enqueued trials, so TPE
learns from them like any trial). A field the new space fixes is left to it; a field the new
space neither samples nor fixes, or a value outside its choices or range, is refused by name:
a warm start never runs a configuration the new space could not have proposed.
"""

from __future__ import annotations

from typing import Any

from search.tune.space import Space


class WarmStartError(ValueError):
    """A configuration of the earlier search that the new space cannot take, named."""


def _check_value(other: str, trial: str, space: Space, name: str, value: Any) -> None:
    param = next(p for p in space.params if p.name == name)
    if param.type == "categorical":
        if value not in param.choices:
            raise WarmStartError(f"warm start from {other}: trial {trial} has {name}={value!r}, "
                                 f"not one of this space's choices {list(param.choices)}")
        return
    low, high = param.low, param.high
    if not (low <= float(value) <= high):
        raise WarmStartError(f"warm start from {other}: trial {trial} has {name}={value}, outside "
                             f"this space's range [{low}, {high}]")


def warm_points(other: str, root: Any, space: Space, k: int = 3) -> tuple[list[dict], list[str]]:
    """The sampled values of the ``k`` best completed trials of search ``other`` under ``root``,
    as points of ``space`` (-> (points, the trials' names)); WarmStartError naming the field
    when the space cannot take one, FileNotFoundError when ``other`` does not exist."""
    from search.tracking import client as tracking
    from search.tracking import report
    from search.tune.state import SearchPaths, check_name, load_record

    if k < 1:
        raise WarmStartError(f"--warm-k {k}: at least 1")
    record = load_record(SearchPaths(root, check_name(other)))
    metric, mode = report.metric_name(record)
    done = [r for r in report.trial_runs(record)
            if r.data.tags.get(tracking.STATUS_TAG) == "completed" and metric in r.data.metrics]
    if not done:
        raise WarmStartError(f"warm start from {other}: it has no completed trial")
    done.sort(key=lambda r: r.data.metrics[metric], reverse=mode == "max")
    sampled = set(record.space.get("params", {}))
    names = {p.name for p in space.params}
    points, trials = [], []
    for run in done[:k]:
        trial = run.data.tags.get(tracking.TRIAL_TAG, run.info.run_id)
        point = {}
        for key, text in sorted(run.data.params.items()):
            base, _, index = key.rpartition("_")
            name = key if key in sampled else base if index.isdigit() and base in sampled \
                else None
            if name is None or name in space.fixed:
                continue  # a fixed field of the earlier search, or one the new space fixes
            if name not in names:
                raise WarmStartError(f"warm start from {other}: field {name} is sampled there "
                                     "but neither sampled nor fixed by this space")
            value = report.parse_param(text)
            _check_value(other, trial, space, name, value)
            point[key] = value  # per-layer fields by their flat names (kernel_sizes_0)
        points.append(point)
        trials.append(str(trial))
    return points, trials
