"""Turning the ``magvox generate`` options into run specs and engine parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data_prep import CONFIGURATIONS
from data_prep.composite import TABLE1_A2, TABLE1_B, TABLE1_X
from data_prep.dft.bond_rules import DEFAULT_RULE
from data_prep.dft.runs import RunSpec
from data_prep.dft.structures import Decoration, decorations
from data_prep.io.run_record import read_run_record


def _split_pair(text: str) -> tuple[str, str]:
    """'GeSi' -> ('Ge', 'Si'); 'PP' -> ('P', 'P'); 'Ge' -> ('Ge', 'Ge')."""
    parts, cur = [], ""
    for ch in text:
        if ch.isupper() and cur:
            parts.append(cur)
            cur = ""
        cur += ch
    parts.append(cur)
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2:
        raise ValueError(f"B pair {text!r} must be two element symbols, such as GeSi")
    return parts[0], parts[1]


def specs_from_args(
    a1: list[str], a2: list[str] | None, b: list[str] | None, x: list[str] | None,
    configs: list[str], cell: str = "auto", geometry: str = DEFAULT_RULE,
) -> list[RunSpec]:  # fmt: skip
    """Every combination of site elements times every configuration (Table 1 by default).

    ``cell``: ``auto``, ``hexagonal`` or ``rectangular``; ``geometry``: the bond-length rule
    (``data_prep.dft.runs.RunSpec``).
    """
    for c in configs:
        if c not in CONFIGURATIONS:
            known = ", ".join(CONFIGURATIONS)
            raise ValueError(f"unknown configuration {c!r}; choose from {known}")
    pairs = [_split_pair(t) for t in b] if b else list(TABLE1_B)
    decs = decorations(a1, a2 or list(TABLE1_A2), pairs, x or list(TABLE1_X))
    return [RunSpec(d, c, cell, geometry) for d in decs for c in configs]


def specs_from_record(path: Path) -> tuple[list[RunSpec], dict[str, Any]]:
    """The spec and parameters recorded in a run's magvox_run.json."""
    rec = read_run_record(path)
    dec = Decoration.from_dict(rec["sites"])
    spec = RunSpec(dec, rec["configuration"], rec.get("cell", "auto"),
                   rec.get("geometry", "covalent"))  # records before the rule was named: rule 1
    return [spec], dict(
        rec.get("parameters", {})
    )
