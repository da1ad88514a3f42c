"""Two or more nested cross-validations on the same outer folds, compared composite by composite.

    magvox search compare gs-fm-hybrid gs-fm-twin gs-fm-preset

Each assessment (``magvox search assess``) predicted every composite once, from its outer fold;
when two assessments share the outer folds (the same dataset, seed and number of folds), their
out-of-fold predictions are paired: the difference of the first assessment against each other
one gets a paired bootstrap interval over composites (stratified by class), overall and per
chalcogen X. This is how a question such as "does the density add to composition?" is answered:
the hybrid network against its composition-only twin, both trained the same way on the same folds.
The first assessment's baselines (majority, composition, integrals of the input) stand beside them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.evaluate import METRIC
from models.pooled import group_scores

BASELINE_COLUMNS = ("majority", "composition", "integrals")


@dataclass
class Record:
    """One assessment read back: its name, folder, per-composite table and pooled figures."""

    name: str
    folder: Path
    table: pd.DataFrame
    summary: dict[str, Any]


def find(ref: str | Path, root: str | Path = "searches") -> Path:
    """The folder of assessment ``ref``: a folder holding assessment.csv, or a name under
    ``root`` (or the recorded ``data/assessments``); FileNotFoundError saying where it looked."""
    tried = [Path(ref), Path(root) / str(ref), Path("data/assessments") / str(ref)]
    for folder in tried:
        if (folder / "assessment.csv").is_file() and (folder / "assessment.json").is_file():
            return folder
    raise FileNotFoundError(f"{ref}: no finished assessment (assessment.csv and .json) in "
                            f"{', '.join(str(t) for t in dict.fromkeys(tried))}")


def read(ref: str | Path, root: str | Path = "searches") -> Record:
    """Assessment ``ref``'s table (one row per composite) and pooled summary."""
    folder = find(ref, root)
    table = pd.read_csv(folder / "assessment.csv")
    summary = json.loads((folder / "assessment.json").read_text())
    missing = {"composite", "outer_fold", "X", "y", "cnn"} - set(table.columns)
    if missing:
        raise ValueError(f"{folder / 'assessment.csv'}: lacks the columns {sorted(missing)}")
    return Record(Path(str(ref)).name, folder, table.set_index("composite"), summary)


def check_paired(first: Record, other: Record) -> None:
    """ValueError in one line unless ``other`` predicted the same composites, with the same
    labels, from the same outer folds as ``first`` (otherwise nothing pairs)."""
    a, b = first.table, other.table
    if first.summary.get("target") != other.summary.get("target"):
        raise ValueError(f"{first.name} predicts {first.summary.get('target')}, {other.name} "
                         f"{other.summary.get('target')}: nothing to compare")
    only = sorted(set(a.index) ^ set(b.index))
    if only:
        raise ValueError(f"{first.name} and {other.name} predicted different composites "
                         f"({len(only)} in one only, e.g. {', '.join(only[:3])}): not paired")
    b = b.loc[a.index]
    moved = a.index[(a["outer_fold"] != b["outer_fold"]).to_numpy()]
    if len(moved):
        raise ValueError(f"{first.name} and {other.name} used different outer folds ({len(moved)} "
                         f"composites in another fold, e.g. {', '.join(moved[:3])}): run them "
                         "with the same dataset, --outer-folds and --seed")
    relabelled = a.index[~np.isclose(a["y"].to_numpy(float), b["y"].to_numpy(float))]
    if len(relabelled):
        raise ValueError(f"{first.name} and {other.name} disagree on the labels of "
                         f"{len(relabelled)} composites (e.g. {', '.join(relabelled[:3])})")


@dataclass
class Comparison:
    """Scores of every assessment's network and the first one's baselines, with the first
    network's paired advantage over each (positive = the first is better, for MAE too).

    Attributes:
        names: the assessments, first = the one the differences are taken from.
        target, task, metric, n_composites: as in ``models.pooled.Pooled``.
        scores: row -> (value, lo, hi); rows are the assessments' names, then the baselines.
        differences: row -> (value, lo, hi) of ``names[0]`` minus that row.
        per_x: chalcogen -> {"n", "class_counts", "scores", "differences"} or a note.
        seed_scores: assessment -> its networks' pooled score per seed (from assessment.json).
    """

    names: list[str]
    target: str
    task: str
    metric: str
    n_composites: int
    scores: dict[str, tuple[float, float, float]]
    differences: dict[str, tuple[float, float, float]]
    per_x: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed_scores: dict[str, list[float]] = field(default_factory=dict)

    def text(self) -> str:
        """The comparison as a plain table."""
        def fmt(v: tuple[float, float, float]) -> str:
            return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

        better = "lower MAE is better; " if self.task == "reg" else ""
        lines = [f"{self.n_composites} composites, each predicted once by every assessment from "
                 f"the same outer folds; {self.target}, {self.metric}, 95% bootstrap intervals "
                 f"({better}differences paired over composites)"]
        width = max(len(n) for n in self.scores) + 2
        for name, v in self.scores.items():
            seeds = self.seed_scores.get(name) or []
            spread = (f"   seeds: {np.mean(seeds):.3f} +- {np.std(seeds):.3f}"
                      if len(seeds) > 1 else "")
            lines.append(f"  {name:<{width}}{fmt(v)}{spread}")
        for name, v in self.differences.items():
            _, lo, hi = v
            word = ("better beyond the interval" if lo > 0 else "worse beyond the interval"
                    if hi < 0 else "within the interval")
            lines.append(f"  {self.names[0]} - {name}: {fmt(v)}  ({word})")
        for x, group in self.per_x.items():
            if "scores" not in group:
                lines.append(f"  X = {x}: {group['n']} composites: {group.get('note', '')}")
                continue
            diffs = "  ".join(f"- {m} {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"
                              for m, d in group["differences"].items() if m in self.names)
            row = "  ".join(f"{m} {s[0]:.3f}" for m, s in group["scores"].items())
            lines.append(f"  X = {x}: {group['n']} composites  {row}  | {self.names[0]} {diffs}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the text."""
        return {**asdict(self), "text": self.text()}


def compare_assessments(refs: list[str | Path], root: str | Path = "searches", *,
                        n_boot: int = 2000, seed: int = 0) -> Comparison:
    """Compare the assessments ``refs`` (names under ``root`` or folders; at least two) on
    their shared outer folds; ValueError when they do not pair (``check_paired``)."""
    from models.evaluate import compare

    if len(refs) < 2:
        raise ValueError("compare needs at least two assessments")
    records = [read(r, root) for r in refs]
    names = [r.name for r in records]
    if len(set(names)) != len(names):
        raise ValueError(f"the same assessment twice: {names}")
    first = records[0]
    for other in records[1:]:
        check_paired(first, other)
    order = first.table.index
    task = str(first.summary["task"])
    y = first.table["y"].to_numpy(float)
    y = y.astype(int) if task == "class" else y
    preds = {r.name: r.table.loc[order, "cnn"].to_numpy(float) for r in records}
    preds |= {b: first.table[b].to_numpy(float) for b in BASELINE_COLUMNS
              if b in first.table.columns}
    keyed = {"cnn" if k == first.name else k: v for k, v in preds.items()}  # compare's key

    def rename(d: dict[str, Any]) -> dict[str, Any]:
        return {first.name if k == "cnn" else k: v for k, v in d.items()}

    scores, diffs = compare(task, y, keyed, n_boot=n_boot, seed=seed)
    xs = first.table["X"].to_numpy(str)
    per_x = {}
    for x in sorted(set(xs)):
        group = group_scores(task, y[xs == x], {k: v[xs == x] for k, v in keyed.items()},
                             n_boot, seed)
        for part in ("scores", "differences"):
            if part in group:
                group[part] = rename(group[part])
        per_x[x] = group
    return Comparison(names, str(first.summary["target"]), task, METRIC[task], len(order),
                      rename(scores), diffs, per_x,
                      {r.name: list(r.summary.get("seed_scores") or []) for r in records})
