"""The baselines' predictions for new composites, beside a network's (``magvox predict``).

Every baseline is fitted on the development composites of the dataset the network's search ran
on: the labelled composites outside its held-out test split (``holdout.json``,
``data_prep.dataset.holdout``). The test split is never fitted on, as in ``models.evaluate``. Then
each
predicts the new composites:

- ``majority``: the development majority class (P(class 1) 0 or 1) or mean;
- ``composition``: the composition model (``models.baselines``), on composites whose names parse
  as A2B2X6 with known elements; for the others, the reason;
- ``integrals``: the model on the integrals of the same input densities (net moment, integral of
  |m|, A-site sphere moments where both datasets record their atoms).

A baseline that cannot be fitted at all (the search's own composites are not A2B2X6, no cell
volumes) is left out with one note saying why.
"""

from __future__ import annotations

import numpy as np

from data_prep.composite import parse_composite
from models.baselines import (
    composition_features,
    feature_scores,
    integral_features,
    majority_scores,
)
from models.data import Samples

Column = list[float | str]  # per composite: P(class 1) or value, or why the baseline cannot say


def development(fit: Samples) -> np.ndarray:
    """Indices of ``fit``'s development composites: labelled, not in its test split."""
    return np.flatnonzero(~fit.test)


def composition_reason(name: str) -> str:
    """Why the composition baseline cannot read ``name`` ("" when it can)."""
    from pymatgen.core import Element

    try:
        for symbol in set(parse_composite(name).values()):
            Element(symbol)
    except ValueError:
        return "not A2B2X6"
    return ""


def _fit_and_predict(task: str, x: np.ndarray, y_dev: np.ndarray) -> np.ndarray:
    """Scores of rows len(y_dev): of features ``x`` (N, F), fitted on its first len(y_dev)."""
    n_dev = len(y_dev)
    y = np.concatenate([y_dev, np.zeros(len(x) - n_dev, dtype=y_dev.dtype)])
    return feature_scores(task, x, y, np.arange(n_dev), np.arange(n_dev, len(x)))


def composition(task: str, fit: Samples, new: Samples) -> Column | str:
    """The composition baseline per new composite, or why it applies to none."""
    dev = development(fit)
    odd = [fit.composites[i] for i in dev if composition_reason(fit.composites[i])]
    if odd:
        return (f"composition: the search's development composites are not all A2B2X6 "
                f"({', '.join(odd[:3])}{', ...' if len(odd) > 3 else ''})")
    reasons = [composition_reason(c) for c in new.composites]
    ok = [i for i, r in enumerate(reasons) if not r]
    out: Column = list(reasons)
    if ok:
        names = [fit.composites[i] for i in dev] + [new.composites[i] for i in ok]
        scores = _fit_and_predict(task, composition_features(names), fit.y[dev])
        for i, s in zip(ok, scores, strict=True):
            out[i] = float(s)
    return out


def integrals(task: str, fit: Samples, new: Samples) -> Column | str:
    """The integrals baseline per new composite, or why it applies to none."""
    if fit.integrals_uB is None:
        return "integrals: the search's dataset records no cell volumes"
    if new.integrals_uB is None:
        return "integrals: the dataset records no cell volumes"
    features = fit.integrals_uB.shape[2]  # 2 (cell) or 4 (+ A1, A2 spheres)
    if new.integrals_uB.shape[2] < features:
        return ("integrals: the dataset records no atoms for the A-site sphere moments the "
                "baseline was fitted with")
    dev = development(fit)
    both = np.concatenate([fit.integrals_uB[dev], new.integrals_uB[:, :, :features]])
    return [float(s) for s in _fit_and_predict(task, integral_features(both), fit.y[dev])]


def baseline_predictions(task: str, fit: Samples, new: Samples
                         ) -> tuple[dict[str, Column], list[str]]:
    """({baseline: a Column over ``new.composites``}, notes on the baselines left out).

    Args:
        task: ``class`` (Columns hold P(class 1)) or ``reg`` (values in the target's units).
        fit: the search's dataset for the model's target and input (labels required).
        new: the composites to predict (labels not needed).
    """
    dev = development(fit)
    if len(dev) == 0:
        return {}, ["no baselines: the search's dataset has no labelled development composites"]
    columns: dict[str, Column] = {
        "majority": [float(s) for s in majority_scores(task, fit.y[dev], len(new.composites))]}
    notes = []
    for name, make in (("composition", composition), ("integrals", integrals)):
        column = make(task, fit, new)
        if isinstance(column, str):
            notes.append(column)
        else:
            columns[name] = column
    return columns, notes
