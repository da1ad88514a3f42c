"""The held-out test split of a dataset: composites that no search trial ever sees.

Fixed per dataset, seeded, stratified by X and by the labels (ground state and moment class), and
recorded in the store as ``holdout.json`` by ``magvox prep``, so a growing dataset keeps its test
composites: a composite's assignment never changes once recorded, and new composites are drawn,
stratum by stratum, to bring each stratum to ``fraction`` of its members.

Which new composites go to the test split is decided by a seeded hash of the composite's name (not
by its position in a list), so the same dataset gives the same split on any machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
from pathlib import Path

import pandas as pd

from data_prep import CLASS_TARGETS
from data_prep.composite import chalcogen

FILENAME = "holdout.json"
FRACTION = 0.2  # 55 composites -> 11 test composites
SEED = 0
STRATA = ("X", *CLASS_TARGETS)


def _rank(composite: str, seed: int) -> float:
    """A seeded pseudo-random number in [0, 1) fixed by the composite's name."""
    digest = hashlib.sha256(f"{seed}:{composite}".encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


def _stratum(row: pd.Series) -> tuple[str, ...]:
    """(X, ground_state, moment_class), '?' where a label is missing."""
    values = [chalcogen(str(row["composite"]))]
    for name in STRATA[1:]:
        v = row.get(name)
        values.append("?" if v is None or pd.isna(v) else str(int(v)))
    return tuple(values)


def _quotas(sizes: dict[tuple[str, ...], int], fraction: float, seed: int
            ) -> dict[tuple[str, ...], int]:
    """Test composites per stratum: ``fraction`` of each, rounded so that the total is
    ``fraction`` of all (largest remainders first; ties broken by a seeded hash)."""
    exact = {k: fraction * n for k, n in sizes.items()}
    quota = {k: math.floor(v) for k, v in exact.items()}
    left = math.floor(fraction * sum(sizes.values()) + 0.5) - sum(quota.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - quota[k]), _rank("|".join(k), seed)))
    for k in order[:max(left, 0)]:
        quota[k] += 1
    return quota


def assign(labels: pd.DataFrame, previous: dict[str, bool] | None = None,
           fraction: float = FRACTION, seed: int = SEED) -> dict[str, bool]:
    """composite -> True if it belongs to the test split.

    Args:
        labels: one row per composite (``composite``, ``ground_state``, ``moment_class``).
        previous: assignments already recorded; they are kept as they are.
        fraction: share of each stratum that goes to the test split.
        seed: seeds the hash that orders new composites.
    """
    previous = dict(previous or {})
    out = {c: previous[c] for c in labels["composite"] if c in previous}
    strata: dict[tuple[str, ...], list[str]] = {}
    for _, row in labels.iterrows():
        strata.setdefault(_stratum(row), []).append(str(row["composite"]))
    quotas = _quotas({k: len(v) for k, v in strata.items()}, fraction, seed)
    for key, members in strata.items():
        have = sum(1 for c in members if out.get(c))
        new = sorted((c for c in members if c not in out), key=lambda c: _rank(c, seed))
        for i, comp in enumerate(new):
            out[comp] = i < max(quotas[key] - have, 0)
    return out


def read_holdout(store: str | Path) -> dict[str, bool] | None:
    """The recorded assignment of a store, or None when it has none."""
    path = Path(store) / FILENAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return {str(c): bool(v) for c, v in data["assigned"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a magvox holdout record ({exc})") from exc


def _write(store: Path, record: dict) -> None:
    tmp = store / f".{FILENAME}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, store / FILENAME)


def _read_raw(store: Path) -> dict:
    path = store / FILENAME
    return json.loads(path.read_text()) if path.is_file() else {}


def update_holdout(store: str | Path, labels: pd.DataFrame) -> dict[str, bool]:
    """Assign new composites, keep recorded ones (and the log of scorings), write
    ``holdout.json`` atomically."""
    store = Path(store)
    assigned = assign(labels, read_holdout(store))
    record = {"fraction": FRACTION, "seed": SEED, "stratified_by": list(STRATA),
              "test": sorted(c for c, t in assigned.items() if t), "assigned": assigned,
              "scorings": _read_raw(store).get("scorings", [])}
    _write(store, record)
    return assigned


def scorings(store: str | Path) -> list[dict]:
    """Every recorded scoring of the store's test split (``log_scoring``), oldest first."""
    return list(_read_raw(Path(store)).get("scorings", []))


def log_scoring(store: str | Path, command: str, scored: list[str], **details: object) -> int:
    """Record one look at the store's test split in ``holdout.json``: when (UTC), which command,
    how many of its test composites were scored, and ``details`` (e.g. the search); -> the
    number of scorings now recorded. The test split is never used to choose anything: this log
    says how often it was looked at, so a reader can tell one look from many."""
    from datetime import UTC, datetime

    store = Path(store)
    record = _read_raw(store)
    if not record:
        raise ValueError(f"{store / FILENAME}: no holdout record to log a scoring in")
    test = set(record.get("test", []))
    entry = {"when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "command": command,
             "composites": len(test & set(scored)), **details}
    record["scorings"] = [*record.get("scorings", []), entry]
    _write(store, record)
    return len(record["scorings"])


def holdout_composites(store: str | Path | None, labels: pd.DataFrame) -> list[str]:
    """The test composites of a store: its record, completed by the rule for any composite the
    record does not know yet (a store written before the record, or read-only)."""
    recorded = read_holdout(store) if store is not None else None
    assigned = assign(labels, recorded)
    return sorted(c for c, t in assigned.items() if t)
