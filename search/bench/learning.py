"""The learning table of BENCHMARKS.md: for each target, the default search's best CNN on the
held-out test split beside the majority and composition baselines, with 95% intervals, the number
of trials and the wall time (``magvox search bench --learning``)."""

from __future__ import annotations

import datetime
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
    return {"target": target, "report": test["report"], "wall_s": wall,
            "trials": counts.get("completed", 0) + counts.get("pruned", 0)}


def _cell(v: list[float]) -> str:
    return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"


def markdown(rows: list[dict[str, Any]], dataset: str) -> str:
    """The BENCHMARKS.md section (machine, date, one row per target)."""
    from models.bench import machine

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"## Learning: the default search's best CNN on the held-out test split ({stamp})", "",
        f"Machine: {machine()} at the end. Dataset `{dataset}`. For each target, "
        "`magvox search start --set target=T` (default space: TPE, 3-fold cross-validation; "
        "its `targets` section trains regression and moment_class, read off the regressed "
        "moment, 30 epochs); the "
        "best trial's configuration is retrained on all development composites and scored once "
        "on the test composites no trial saw. 95% bootstrap intervals over test composites "
        "(stratified by class); 'beats' = the paired interval of the difference excludes 0. "
        "Classification: balanced accuracy (0.5 = chance); regression: MAE (lower is better).",
        "", "| target | metric | test composites | CNN | majority | composition | verdict | "
        "trials | wall |", "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rep = row["report"]
        metric = rep["metric"] + (f" ({UNITS[row['target']]})" if row["target"] in UNITS else "")
        s = rep["scores"]
        lines.append(
            f"| {row['target']} | {metric} | {len(rep['test_composites'])} | "
            f"{_cell(s['cnn'])} | {_cell(s['majority'])} | {_cell(s['composition'])} | "
            f"{rep['verdict']} | {row['trials']} | {row['wall_s'] / 60:.1f} min |")
    return "\n".join(lines) + "\n"


def run_learning(dataset: str, out: Path, trials: int | None = None,
                 targets: tuple[str, ...] = TARGETS) -> str:
    """Run the default search per target in a throw-away root; append the table to ``out``."""
    with tempfile.TemporaryDirectory(prefix="magvox-learning-") as tmp:
        rows = [one_target(dataset, Path(tmp), t, trials) for t in targets]
    text = markdown(rows, dataset)
    with out.open("a") as fh:
        fh.write("\n" + text)
    return text
