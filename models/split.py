"""Seeded, stratified train/validation splits by composite (never by sample)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from models.config import ConfigError
from models.data import CLASS_MEANING


def strata(y: np.ndarray, classification: bool, bins: int = 3) -> np.ndarray:
    """Stratification labels: the class, or the quantile bin of a regression target."""
    if classification:
        return np.asarray(y)
    edges = np.quantile(y, np.linspace(0, 1, bins + 1)[1:-1])
    return np.digitize(y, edges)


def _with_groups(label: np.ndarray, groups: np.ndarray | None, n_splits: int,
                 max_strata: int) -> np.ndarray:
    """label x group (e.g. x chalcogen) when every such stratum can fill the splits and there
    are at most ``max_strata`` of them (a split of n_val composites holds at most n_val), else
    the label alone."""
    if groups is None or len(np.unique(groups)) < 2:
        return label
    joint = np.array([f"{a}|{b}" for a, b in zip(label, groups, strict=True)])
    usable = _stratifiable(joint, n_splits) and len(np.unique(joint)) <= max_strata
    return joint if usable else label


def _stratifiable(s: np.ndarray, n_splits: int) -> bool:
    _, counts = np.unique(s, return_counts=True)
    return len(counts) > 1 and counts.min() >= n_splits


def split_indices(
    composites: list[str], y: np.ndarray, *, classification: bool, seed: int,
    val_fraction: float = 0.3, folds: int = 0, fold: int = 0, groups: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) sample indices, grouped by composite, stratified by label, seeded.

    folds = 0: one split holding out ``val_fraction`` of the composites (62 -> 43 / 19).
    folds >= 2: stratified k-fold over composites; returns fold ``fold``.
    groups: a second stratification key per sample (the chalcogen X), used where every
    label x group stratum is large enough.
    Falls back to an unstratified split (with a warning) when a class (or regression quantile
    bin) has fewer members than the folds need, e.g. on a handful of real composites.
    """
    names, first = np.unique(np.asarray(composites), return_index=True)
    n_splits = folds if folds >= 2 else 2
    label = strata(np.asarray(y)[first], classification)
    n_val = len(names) // folds if folds >= 2 else round(val_fraction * len(names))
    max_strata = min(n_val, len(names) - n_val)
    label = _with_groups(label, None if groups is None else np.asarray(groups)[first], n_splits,
                         max_strata)
    pos = np.arange(len(names))
    usable = _stratifiable(label, n_splits) and len(np.unique(label)) <= max_strata
    stratify = label if usable else None
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


def development_splits(
    composites: list[str], y: np.ndarray, test: np.ndarray, *, classification: bool, seed: int,
    folds: int, val_fraction: float = 0.3,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, val) index pairs over the development samples (``test`` False) only.

    folds >= 2: one pair per fold of a stratified k-fold by composite (every development
    composite is validated exactly once); folds = 0: one pair holding out ``val_fraction``.
    Stratified by label and, where the data has several, by chalcogen X.
    """
    from data_prep.composite import chalcogen

    dev = np.flatnonzero(~np.asarray(test, dtype=bool))
    comps = [composites[i] for i in dev]
    xs = [chalcogen(c) for c in comps]
    out = []
    for k in range(max(folds, 1)):
        train, val = split_indices(comps, np.asarray(y)[dev], classification=classification,
                                   seed=seed, val_fraction=val_fraction, folds=folds, fold=k,
                                   groups=xs)
        out.append((dev[train], dev[val]))
    return out


def check_class_counts(composites: list[str], y: np.ndarray, test: np.ndarray, *, folds: int,
                       target: str) -> None:
    """Refuse a classification ``target`` (labels 0/1) whose development composites (``test``
    False) cannot fill the splits: k-fold cross-validation needs ``folds`` composites of each
    class (every fold validates on both), a single split (folds = 0) one of each. ConfigError
    on ``folds``, with the counts per class."""
    dev = ~np.asarray(test, dtype=bool)
    _, first = np.unique(np.asarray(composites)[dev], return_index=True)
    labels = np.asarray(y)[dev][first]
    counts = {c: int(np.sum(labels == c)) for c in (1, 0)}
    need = folds if folds >= 2 else 1
    if min(counts.values()) >= need:
        return
    split = f"{folds}-fold cross-validation" if folds >= 2 else "a train/validation split"
    have = " and ".join(f"{n} of class {c}" for c, n in counts.items())
    meaning = f" ({CLASS_MEANING[target]})" if target in CLASS_MEANING else ""
    raise ConfigError("folds", f"{split} of {target} needs at least {need} development "
                               f"composites of each class; the dataset has {have}{meaning}")
