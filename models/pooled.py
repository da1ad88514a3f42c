"""Out-of-fold predictions of a nested cross-validation, pooled into one figure per model.

    pooled = pool("class", "ground_state", folds)   # folds: [{"composites", "y", "predictions"}]
    print(pooled.text())

Each outer fold scored its own held-out composites once, with a network trained (and chosen) on
the other folds only, and the baselines fitted on the same composites. Every composite is thus
predicted exactly once, by models that never saw it: the pooled predictions are scored together
(95% bootstrap intervals over composites, stratified by class; the CNN's paired advantage over
each baseline), with the counts per class, a breakdown per chalcogen X and the spread of the
per-fold scores. A class with fewer than ``MIN_PER_CLASS`` composites in a group gets no interval
and no claim (``models.evaluate``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from models.evaluate import METRIC, MIN_PER_CLASS, class_name, compare, score


@dataclass
class Pooled:
    """A nested cross-validation's pooled figures.

    Attributes:
        target, task, metric: what was predicted and how it is scored (``class``: balanced
            accuracy of P(class 1) >= 0.5; ``reg``: mean absolute error, label units).
        n_composites: composites predicted (each once); class_counts: class -> composites.
        scores: model -> (value, lo, hi) over all composites (95% bootstrap).
        differences: baseline -> (value, lo, hi) of the CNN's advantage (positive = CNN better).
        per_fold: model -> the score of each outer fold (the spread between splits).
        per_x: chalcogen -> {"n", "class_counts", "scores", "differences"} (empty where a class
            is too small to score the group).
        seed_scores: the pooled CNN score of each seed the selected configurations were trained
            with (seed r of every fold together); ``cnn`` above is the first.
    """

    target: str
    task: str
    metric: str
    n_composites: int
    class_counts: dict[int, int]
    scores: dict[str, tuple[float, float, float]]
    differences: dict[str, tuple[float, float, float]]
    per_fold: dict[str, list[float]] = field(default_factory=dict)
    per_x: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed_scores: list[float] = field(default_factory=list)

    def small_classes(self) -> dict[int, int]:
        """Classes with fewer than ``MIN_PER_CLASS`` composites: class -> count."""
        return {c: n for c, n in self.class_counts.items() if n < MIN_PER_CLASS}

    def beats(self, baseline: str) -> bool:
        """The CNN beats ``baseline`` beyond the 95% interval of the paired difference."""
        return not self.small_classes() and self.differences[baseline][1] > 0

    def verdict(self) -> str:
        """One plain sentence on the CNN against each baseline."""
        if self.small_classes():
            return f"classes {self.small_classes()} have too few composites for an interval"
        parts = []
        for name, (_, lo, hi) in self.differences.items():
            if lo > 0:
                parts.append(f"beats {name} beyond the interval")
            elif hi < 0:
                parts.append(f"loses to {name} beyond the interval")
            else:
                parts.append(f"is within the interval of {name}")
        return "the CNN " + "; ".join(parts)

    def text(self) -> str:
        """The pooled table in plain words: models, differences, per fold, per X."""
        def fmt(v: tuple[float, float, float]) -> str:
            return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

        counts = ", ".join(f"{n} of {class_name(self.target, c)}"
                           for c, n in self.class_counts.items())
        lines = [f"nested cross-validation, {len(next(iter(self.per_fold.values()), []))} outer "
                 f"folds: {self.n_composites} composites each predicted once"
                 f"{f' ({counts})' if counts else ''}; {self.target}, {self.metric}, 95% "
                 f"bootstrap intervals"]
        for name, v in self.scores.items():
            folds = " ".join(f"{s:.2f}" for s in self.per_fold.get(name, []))
            lines.append(f"  {name:<12} {fmt(v)}   per fold: {folds}")
        if len(self.seed_scores) > 1:
            lines.append(f"  CNN over {len(self.seed_scores)} seeds: "
                         f"{np.mean(self.seed_scores):.3f} +- {np.std(self.seed_scores):.3f} "
                         f"({' '.join(f'{s:.3f}' for s in self.seed_scores)})")
        for name, v in self.differences.items():
            lines.append(f"  CNN - {name}: {fmt(v)}")
        for x, group in self.per_x.items():
            row = "  ".join(f"{m} {s[0]:.3f}" for m, s in group.get("scores", {}).items())
            counts = group.get("class_counts") or ""
            lines.append(f"  X = {x}: {group['n']} composites {counts}"
                         f"  {row or group.get('note', '')}")
        lines.append(f"-> {self.verdict()}")
        return "\n".join(lines)

    def flat(self) -> dict[str, float]:
        """``nested_<model>_<metric>`` (+ ``_lo``, ``_hi``), differences and counts, for MLflow."""
        out = {"nested_n_composites": float(self.n_composites)}
        named = {**self.scores, **{f"cnn_minus_{k}": d for k, d in self.differences.items()}}
        for name, (v, lo, hi) in named.items():
            out.update({f"nested_{name}_{self.metric}": v, f"nested_{name}_{self.metric}_lo": lo,
                        f"nested_{name}_{self.metric}_hi": hi})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, with the verdict."""
        return {**asdict(self), "verdict": self.verdict()}


def restrict(folds: list[dict[str, Any]], keep: set[str]) -> list[dict[str, Any]]:
    """The folds with only the composites in ``keep`` (e.g. the pairs whose FM and Neel runs
    ended in distinct states), every per-composite list cut alike."""
    out = []
    for f in folds:
        rows = [j for j, c in enumerate(f["composites"]) if c in keep]
        out.append({"composites": [f["composites"][j] for j in rows],
                    "y": [f["y"][j] for j in rows],
                    "predictions": {m: [p[j] for j in rows] for m, p in f["predictions"].items()},
                    "seed_predictions": [[p[j] for j in rows]
                                         for p in f.get("seed_predictions") or []]})
    return out


def _counts(task: str, y: np.ndarray) -> dict[int, int]:
    if task != "class":
        return {}
    values, n = np.unique(y.astype(int), return_counts=True)
    return {int(v): int(k) for v, k in zip(values, n, strict=True)}


def group_scores(task: str, y: np.ndarray, preds: dict[str, np.ndarray], n_boot: int,
                 seed: int) -> dict[str, Any]:
    """Scores and differences (``cnn`` against each other model) of one group of composites (a
    chalcogen), or a note where a class is too small to score it."""
    counts = _counts(task, y)
    if task == "class" and (len(counts) < 2 or min(counts.values()) < MIN_PER_CLASS):
        return {"n": len(y), "class_counts": counts,
                "note": "a class has fewer than 5 composites: not scored"}
    scores, diffs = compare(task, y, preds, n_boot=n_boot, seed=seed)
    return {"n": len(y), "class_counts": counts, "scores": scores, "differences": diffs}


def pool(task: str, target: str, folds: list[dict[str, Any]], *, n_boot: int = 2000,
         seed: int = 0) -> Pooled:
    """Pool outer folds ``[{"composites": [...], "y": [...], "predictions": {model: [...]}}]``
    (``models.evaluate.TestReport`` fields; ``seed_predictions`` optional) into one
    :class:`Pooled`. Every fold must carry the
    same models, a ``cnn`` among them; a composite may appear in one fold only."""
    from data_prep.composite import chalcogen

    names = [c for f in folds for c in f["composites"]]
    if len(set(names)) != len(names):
        raise ValueError("a composite is predicted in more than one outer fold")
    models = list(folds[0]["predictions"])
    if "cnn" not in models or any(list(f["predictions"]) != models for f in folds):
        raise ValueError(f"every outer fold must carry the same models with a cnn; got {models}")
    y = np.concatenate([np.asarray(f["y"], dtype=float) for f in folds])
    y = y.astype(int) if task == "class" else y
    preds = {m: np.concatenate([np.asarray(f["predictions"][m], dtype=float) for f in folds])
             for m in models}
    scores, diffs = compare(task, y, preds, n_boot=n_boot, seed=seed)
    per_fold = {m: [float(score(task, np.asarray(f["y"], dtype=float).astype(y.dtype),
                                np.asarray(f["predictions"][m], dtype=float))) for f in folds]
                for m in models}
    xs = np.array([chalcogen(c) for c in names])
    per_x = {x: group_scores(task, y[xs == x], {m: p[xs == x] for m, p in preds.items()},
                             n_boot, seed)
             for x in sorted(set(xs))}
    return Pooled(target, task, METRIC[task], len(names), _counts(task, y), scores, diffs,
                  per_fold, per_x, _seed_scores(task, y, folds))


def _seed_scores(task: str, y: np.ndarray, folds: list[dict[str, Any]]) -> list[float]:
    """The pooled score of each seed, where every fold trained the same number (> 1) of seeds."""
    counts = {len(f.get("seed_predictions") or []) for f in folds}
    if len(counts) != 1 or (n := counts.pop()) < 2:
        return []
    return [float(score(task, y, np.concatenate([np.asarray(f["seed_predictions"][r], dtype=float)
                                                  for f in folds]))) for r in range(n)]
