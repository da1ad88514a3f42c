"""The learning bench: for each target, the default search's best CNN on the held-out test
split beside the majority and composition baselines, with 95% intervals, the number of trials and
the wall time (``magvox bench learning``; figures of the ``learning`` record). Superseded as the
figure of record by nested cross-validation (``magvox search assess``): one test split of a few
composites per class carries little."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from data_prep import J_TARGETS, TARGET_COLUMNS

TARGETS = tuple(t for t in TARGET_COLUMNS if t not in J_TARGETS)  # the couplings: a study apart
UNITS = {"moment": "uB", "exchange_energy": "eV/cell"}


def one_target(dataset: str, root: Path, target: str, trials: int | None) -> dict[str, Any]:
    """Run the default search for ``target``; -> its test report, trials and wall time."""
    from search.tracking import report
    from search.tune import service

    start = time.perf_counter()
    record = service.start(service.StartOptions(
        name=f"learn-{target.replace('_', '-')}", dataset=dataset, root=str(root),
        trials=trials, overrides={"target": target}))
    wall = time.perf_counter() - start
    test = report.load_test(record)
    if test is None:
        raise RuntimeError(f"search {record.name} ended without a test-split report")
    counts = report.status(record)["trials"]
    rep = test["report"]
    return {"target": target, "metric": rep["metric"], "unit": UNITS.get(target),
            "test_composites": len(rep["test_composites"]),
            "scores": {m: rep["scores"][m] for m in ("cnn", "majority", "composition")},
            "verdict": rep["verdict"], "wall_s": wall,
            "trials": counts.get("completed", 0) + counts.get("pruned", 0)}


def measure_learning(dataset: str, trials: int | None = None,
                     targets: tuple[str, ...] = TARGETS) -> dict[str, Any]:
    """Run the default search per target in a throw-away root -> the record's figures."""
    with tempfile.TemporaryDirectory(prefix="magvox-learning-") as tmp:
        rows = [one_target(dataset, Path(tmp), t, trials) for t in targets]
    return {"dataset": dataset, "rows": rows}
