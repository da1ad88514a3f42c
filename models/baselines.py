"""Baselines on the same split as the CNN: majority class, composition, and the integrals of the
CNN's own input densities.

With tens of samples a CNN that does not beat these has learned nothing from the density. The
composition model sees only which elements sit on the A2, B and X sites of A1 A2 B1 B2 X6 (one-hot
identities) and simple elemental properties (Z, Pauling electronegativity, atomic radius, group,
row; pymatgen; missing values imputed by the training mean). The integrals model sees the numbers
a physicist reads off the same input densities without any network: per input configuration the
net moment and the integral of |m| over the cell (uB), the moments in 1.2 A spheres around the A1
and A2 sites where the dataset records its atoms (``models.site_moments``), and for a
two-configuration input their differences; a CNN that does not beat it has not used the third
dimension. Both are fitted with scikit-learn (logistic regression / ridge, standardised
features).
"""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from data_prep.composite import parse_composite
from models.metrics import metrics


def _properties(symbol: str) -> list[float]:
    """Z, Pauling electronegativity, atomic radius (A), group, row; NaN where pymatgen has none."""
    import warnings

    from pymatgen.core import Element

    e = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "No Pauling electronegativity for Ar"
        x, radius = float(e.X), e.atomic_radius
    return [float(e.Z), x, float("nan") if radius is None else float(radius), float(e.group),
            float(e.row)]


def composition_features(composites: list[str]) -> np.ndarray:
    """(N, F) features: site identities one-hot (A2, B pair, X) + properties of A2, B1, B2, X."""
    parsed = [parse_composite(c) for c in composites]
    keys = [("A2", p["A2"]) for p in parsed] + [("B", p["B1"] + p["B2"]) for p in parsed]
    keys += [("X", p["X"]) for p in parsed]
    vocab = sorted(set(keys))
    onehot = np.zeros((len(parsed), len(vocab)))
    for i, p in enumerate(parsed):
        for key in (("A2", p["A2"]), ("B", p["B1"] + p["B2"]), ("X", p["X"])):
            onehot[i, vocab.index(key)] = 1.0
    props = np.array([[v for s in ("A2", "B1", "B2", "X") for v in _properties(p[s])]
                      for p in parsed])  # (N, 4 sites x 5 properties)
    return np.hstack([onehot, props])


def _log_loss(y: np.ndarray, p1: np.ndarray) -> float:
    p = np.clip(np.where(y == 1, p1, 1 - p1), 1e-12, 1.0)
    return float(-np.mean(np.log(p)))


def majority(task: str, y_train: np.ndarray, y_val: np.ndarray) -> dict[str, float]:
    """Predict the training majority class (P(1) = its training share) or the training mean."""
    if task == "class":
        p1 = np.full(len(y_val), float(np.mean(y_train)))
        p1_hard = np.full(len(y_val), 1.0 if np.mean(y_train) > 0.5 else 0.0)
        out = metrics(task, y_val, p1_hard, _log_loss(y_val, p1))
        out["roc_auc"] = float("nan")  # a constant score ranks nothing
        return out
    pred = np.full(len(y_val), float(np.mean(y_train)))
    return metrics(task, y_val, pred, float(np.mean((pred - y_val) ** 2)))


def majority_scores(task: str, y_train: np.ndarray, n: int) -> np.ndarray:
    """(n,) predictions of the majority baseline: the majority class (as P(1) = 0 or 1) or the
    training mean."""
    if task == "class":
        return np.full(n, 1.0 if np.mean(y_train) > 0.5 else 0.0)
    return np.full(n, float(np.mean(y_train)))


def integral_features(integrals_uB: np.ndarray) -> np.ndarray:
    """(S, K, F) integrals (``Samples.integrals_uB``, uB, per input configuration in the order of
    ``models.data.INTEGRAL_NAMES``: net moment, integral of |m|, and where the dataset has its
    atoms the A1 and A2 sphere moments) -> (S, K F + (K - 1) F) features: configuration 0's F
    integrals, configuration 1's, ..., then configuration 0's minus configuration k's, k >= 1."""
    flat = [integrals_uB.reshape(len(integrals_uB), -1)]
    flat += [integrals_uB[:, 0] - integrals_uB[:, k] for k in range(1, integrals_uB.shape[1])]
    return np.hstack(flat)


def feature_scores(
    task: str, x: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray
) -> np.ndarray:
    """(len(val),) P(class 1) or values of a linear model on features ``x`` (N, F) fitted on
    ``train`` (logistic regression / ridge, standardised; the majority where one class).

    Classes are weighted by inverse frequency, as the CNN's loss is by default
    (``class_weight=balanced``): unweighted, two weak features on a 46:9 label leave the
    regression predicting the majority everywhere (balanced accuracy 0.5), a straw man.
    """
    if task == "class":
        if len(np.unique(y[train])) < 2:
            return majority_scores(task, y[train], len(val))
        clf = make_pipeline(SimpleImputer(), StandardScaler(),
                            LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced"))
        return clf.fit(x[train], y[train]).predict_proba(x[val])[:, 1]
    reg = make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=1.0))
    return reg.fit(x[train], y[train]).predict(x[val])


def composition_scores(
    task: str, composites: list[str], y: np.ndarray, train: np.ndarray, val: np.ndarray
) -> np.ndarray:
    """(len(val),) P(class 1) or predicted values of the composition model fitted on ``train``."""
    return feature_scores(task, composition_features(composites), y, train, val)


def integrals_scores(
    task: str, integrals_uB: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray
) -> np.ndarray:
    """(len(val),) predictions of the model on the input densities' integrals (S, K, F)."""
    return feature_scores(task, integral_features(integrals_uB), y, train, val)


def _scored(task: str, y: np.ndarray, train: np.ndarray, val: np.ndarray,
            score: np.ndarray) -> dict[str, float]:
    if task == "class" and len(np.unique(y[train])) < 2:
        return majority(task, y[train], y[val])
    loss = _log_loss(y[val], score) if task == "class" else float(np.mean((score - y[val]) ** 2))
    return metrics(task, y[val], score, loss)


def composition(
    task: str, composites: list[str], y: np.ndarray, train: np.ndarray, val: np.ndarray
) -> dict[str, float]:
    """Fit on the training composites' features, score the validation ones."""
    return _scored(task, y, train, val, composition_scores(task, composites, y, train, val))


def baselines(
    task: str, composites: list[str], y: np.ndarray, train: np.ndarray, val: np.ndarray,
    integrals_uB: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Validation metrics of the baselines: {"majority": {...}, "composition": {...}} and, given
    the input densities' integrals (S, K, F), "integrals"."""
    out = {
        "majority": majority(task, y[train], y[val]),
        "composition": composition(task, composites, y, train, val),
    }
    if integrals_uB is not None:
        out["integrals"] = _scored(task, y, train, val,
                                   integrals_scores(task, integrals_uB, y, train, val))
    return out
