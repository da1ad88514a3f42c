"""Per-epoch metrics: classification (loss, accuracy, balanced accuracy, macro-F1, ROC AUC) and
regression (loss, MAE, R^2). Undefined values (AUC with one class present) are NaN, not errors."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

CLASS_METRICS = ("loss", "accuracy", "balanced_accuracy", "macro_f1", "roc_auc")
REG_METRICS = ("loss", "mae", "r2")
TASK_METRICS = {"class": CLASS_METRICS, "reg": REG_METRICS}
# what a search optimises by default, and in which direction
HEADLINE_METRIC = {"class": ("balanced_accuracy", "max"), "reg": ("mae", "min")}
LOWER_IS_BETTER = ("loss", "mae")


def classification_metrics(y: np.ndarray, prob1: np.ndarray, loss: float) -> dict[str, float]:
    """Metrics of labels y (N,) in {0, 1} against P(class 1) (N,)."""
    pred = (prob1 >= 0.5).astype(int)
    out = {
        "loss": float(loss),
        "accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)) if len(y) else math.nan,
        "macro_f1": float(f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0)),
        "roc_auc": math.nan,
    }
    if len(np.unique(y)) == 2 and np.all(np.isfinite(prob1)):
        out["roc_auc"] = float(roc_auc_score(y, prob1))
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray, loss: float) -> dict[str, float]:
    """MAE (target units) and R^2 (NaN for fewer than two samples) of predictions (N,)."""
    finite = bool(np.all(np.isfinite(pred)))
    return {
        "loss": float(loss),
        "mae": float(mean_absolute_error(y, pred)) if finite else math.nan,
        "r2": float(r2_score(y, pred)) if finite and len(y) > 1 else math.nan,
    }


def metrics(task: str, y: np.ndarray, score: np.ndarray, loss: float) -> dict[str, float]:
    """Dispatch on task ``class`` (score = P(class 1)) or ``reg`` (score = prediction)."""
    if task == "class":
        return classification_metrics(y, score, loss)
    return regression_metrics(y, score, loss)
