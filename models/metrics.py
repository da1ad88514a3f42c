"""Per-epoch metrics: classification (loss, accuracy, balanced accuracy, macro-F1, ROC AUC) and
regression (loss, MAE, R^2). Undefined values (AUC with one class present) are NaN, not errors.

Plain numpy, with sklearn's definitions (tests/unit/models/test_metrics.py checks them against
sklearn): the folds of every epoch of every trial are scored here, and sklearn's input validation
cost 0.3 s of a 2 s trial. ``balanced_accuracy`` and ``mae`` also score many rows at once (the
bootstrap of ``models.evaluate``).
"""

from __future__ import annotations

import math

import numpy as np

CLASS_METRICS = ("loss", "accuracy", "balanced_accuracy", "macro_f1", "roc_auc")
REG_METRICS = ("loss", "mae", "r2")
TASK_METRICS = {"class": CLASS_METRICS, "reg": REG_METRICS}
# what a search optimises by default, and in which direction
HEADLINE_METRIC = {"class": ("balanced_accuracy", "max"), "reg": ("mae", "min")}
LOWER_IS_BETTER = ("loss", "mae")


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> np.ndarray | float:
    """Mean recall over the classes present in ``y`` (labels in {0, 1}), along the last axis:
    y and pred (..., N) -> (...). NaN where ``y`` is empty."""
    y, pred = np.asarray(y), np.asarray(pred)
    recalls = []
    for c in (0, 1):
        true_c = y == c
        n_c = true_c.sum(axis=-1)
        hits = (true_c & (pred == c)).sum(axis=-1)
        recalls.append(np.where(n_c > 0, hits / np.maximum(n_c, 1), np.nan))
    stacked = np.stack(recalls)
    present = np.isfinite(stacked)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(present, stacked, 0).sum(axis=0) / present.sum(axis=0)
    return float(out) if np.ndim(out) == 0 else out


def mae(y: np.ndarray, pred: np.ndarray) -> np.ndarray | float:
    """Mean absolute error along the last axis: (..., N) -> (...)."""
    out = np.mean(np.abs(np.asarray(pred, float) - np.asarray(y, float)), axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 of classes 0 and 1 (a class never predicted nor present scores 0)."""
    scores = []
    for c in (0, 1):
        tp = float(np.sum((pred == c) & (y == c)))
        wrong = float(np.sum((pred == c) != (y == c)))  # false positives + false negatives
        scores.append(2 * tp / (2 * tp + wrong) if tp + wrong > 0 else 0.0)
    return float(np.mean(scores))


def roc_auc(y: np.ndarray, prob1: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic with average ranks for ties."""
    order = np.argsort(prob1, kind="mergesort")
    sorted_p = prob1[order]
    ranks = np.empty(len(prob1))
    # average rank (1-based) of every run of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
    ends = np.r_[starts[1:], len(prob1)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2
    n1 = int(np.sum(y == 1))
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n0 * n1))


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination; 1 for a perfect fit of a constant target, else 0 there."""
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def classification_metrics(y: np.ndarray, prob1: np.ndarray, loss: float) -> dict[str, float]:
    """Metrics of labels y (N,) in {0, 1} against P(class 1) (N,)."""
    y = np.asarray(y).astype(int)
    prob1 = np.asarray(prob1, dtype=float)
    pred = (prob1 >= 0.5).astype(int)
    out = {
        "loss": float(loss),
        "accuracy": float(np.mean(pred == y)) if len(y) else math.nan,
        "balanced_accuracy": float(balanced_accuracy(y, pred)) if len(y) else math.nan,
        "macro_f1": macro_f1(y, pred),
        "roc_auc": math.nan,
    }
    if len(np.unique(y)) == 2 and np.all(np.isfinite(prob1)):
        out["roc_auc"] = roc_auc(y, prob1)
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray, loss: float) -> dict[str, float]:
    """MAE (target units) and R^2 (NaN for fewer than two samples) of predictions (N,)."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    finite = bool(np.all(np.isfinite(pred)))
    return {
        "loss": float(loss),
        "mae": float(mae(y, pred)) if finite and len(y) else math.nan,
        "r2": r2(y, pred) if finite and len(y) > 1 else math.nan,
    }


def metrics(task: str, y: np.ndarray, score: np.ndarray, loss: float) -> dict[str, float]:
    """Dispatch on task ``class`` (score = P(class 1)) or ``reg`` (score = prediction)."""
    if task == "class":
        return classification_metrics(y, score, loss)
    return regression_metrics(y, score, loss)
