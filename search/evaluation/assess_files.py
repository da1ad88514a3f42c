"""The files a nested cross-validation leaves: assessment.json, assessment.csv, assessment.txt.

``assessment.csv`` has one row per composite: the outer fold that predicted it, its chalcogen X,
its label ``y`` and each model's prediction (P(class 1) for a class, the value for a regression
target, in the label's units), so any figure can be recomputed from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from data_prep.io.fileio import write_text_atomic


def table(reports: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per composite of every outer fold's test report."""
    from data_prep.composite import chalcogen

    rows = []
    for i, rep in enumerate(reports):
        for j, comp in enumerate(rep["test_composites"]):
            rows.append({"composite": comp, "outer_fold": i, "X": chalcogen(comp),
                         "y": rep["y"][j],
                         **{m: p[j] for m, p in rep["predictions"].items()}})
    return pd.DataFrame(rows)


def selections(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What each outer search selected and how its fold scored it."""
    return [{"outer_fold": i, "trial": rep.get("trial"), "trial_run_id": rep.get("trial_run_id"),
             "n_dev": rep.get("n_dev"), "scores": rep["scores"]}
            for i, rep in enumerate(reports)]


def text(pooled: Any, distinct: dict[str, Any] | None) -> str:
    """The pooled table, and for a two-run input the same on the distinct-state pairs."""
    if distinct is None:
        return pooled.text()
    return (f"{pooled.text()}\n\non the {distinct['kept']} composites whose runs ended in "
            f"distinct states ({distinct['collapsed']} pairs collapsed into one state, labelled "
            f"FM, left out):\n{distinct['pooled'].text()}")


def write_outputs(folder: Path, pooled: Any, reports: list[dict[str, Any]],
                  distinct: dict[str, Any] | None = None,
                  provenance: dict[str, Any] | None = None) -> list[Path]:
    """Write the three files into ``folder`` (each atomically); -> their paths. ``provenance``
    (date, commit, machine, load, command, wall s) goes into assessment.json: BENCHMARKS.md
    quotes the record with it."""
    data = {**pooled.to_dict(), "outer_folds": selections(reports),
            "text": text(pooled, distinct)}
    if provenance is not None:
        data["provenance"] = provenance
    if distinct is not None:
        data["distinct_states"] = {"collapsed": distinct["collapsed"], "kept": distinct["kept"],
                                   **distinct["pooled"].to_dict()}
    table_csv = table(reports)
    return [
        write_text_atomic(folder / "assessment.json", json.dumps(data, indent=1)),
        write_text_atomic(folder / "assessment.csv", table_csv.to_csv(index=False)),
        write_text_atomic(folder / "assessment.txt", data["text"] + "\n"),
    ]
