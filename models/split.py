"""Seeded, stratified train/validation splits by composite (never by sample)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split


def strata(y: np.ndarray, classification: bool, bins: int = 3) -> np.ndarray:
    """Stratification labels: the class, or the quantile bin of a regression target."""
    if classification:
        return np.asarray(y)
    edges = np.quantile(y, np.linspace(0, 1, bins + 1)[1:-1])
    return np.digitize(y, edges)


def _stratifiable(s: np.ndarray, n_splits: int) -> bool:
    _, counts = np.unique(s, return_counts=True)
    return len(counts) > 1 and counts.min() >= n_splits


def split_indices(
    composites: list[str], y: np.ndarray, *, classification: bool, seed: int,
    val_fraction: float = 0.3, folds: int = 0, fold: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) sample indices, grouped by composite, stratified by label, seeded.

    folds = 0: one split holding out ``val_fraction`` of the composites (62 -> 43 / 19).
    folds >= 2: stratified k-fold over composites; returns fold ``fold``.
    Falls back to an unstratified split (with a warning) when a class (or regression quantile
    bin) has fewer members than the folds need, e.g. on a handful of real composites.
    """
    names, first = np.unique(np.asarray(composites), return_index=True)
    label = strata(np.asarray(y)[first], classification)
    pos = np.arange(len(names))
    n_splits = folds if folds >= 2 else 2
    stratify = label if _stratifiable(label, n_splits) else None
    if stratify is None:
        warnings.warn("a label stratum is too small to stratify; splitting at random", stacklevel=2)
    if folds >= 2:
        groups = label if stratify is not None else np.zeros_like(pos)  # one group = plain k-fold
        parts = StratifiedKFold(folds, shuffle=True, random_state=seed).split(pos, groups)
        train_c, val_c = list(parts)[fold]
    else:
        train_c, val_c = train_test_split(pos, test_size=val_fraction, random_state=seed,
                                          stratify=stratify)
    comp = np.asarray(composites)
    train = np.flatnonzero(np.isin(comp, names[train_c]))
    val = np.flatnonzero(np.isin(comp, names[val_c]))
    return train, val
