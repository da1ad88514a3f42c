"""Reading a dataset card and its sources for the card audits (card_content.py): the card's
sections and tables, a printed figure against a value at the card's precision, the store and
run records a card is rendered from, and the list of disagreements found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$", re.IGNORECASE)


def agrees(printed: str, value: float | None) -> bool:
    """``printed`` (e.g. '+37.3', '2.1e-14', '6', 'nan', '-') equals ``value`` to the last digit
    it prints (half a unit of that digit); 'nan', '<NA>' and '-' stand for no value."""
    printed = printed.strip()
    if value is None or pd.isna(value):
        return printed in ("nan", "<NA>", "-")
    match = NUMBER.match(printed)
    if not match:
        return False
    decimals = len(match.group(1).split(".")[1]) if "." in match.group(1) else 0
    exponent = int(match.group(2)[1:]) if match.group(2) else 0
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    return abs(float(printed) - float(value)) <= half_unit * (1 + 1e-9)


def sections(text: str) -> dict[str, str]:
    """Body of each '## ' section by its heading's first words (``intro``: the text above)."""
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    out = {"intro": parts[0]}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        out[heading.strip()] = body
    return out


def section(text: str, starts: str) -> str | None:
    """The body of the first section whose heading starts with ``starts`` (None: no such)."""
    return next((body for head, body in sections(text).items() if head.startswith(starts)), None)


def table(text: str, header_starts: str) -> list[list[str]]:
    """The rows (cells, stripped) of the first markdown table whose header line starts with
    ``header_starts``; [] when the text has no such table."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(header_starts)), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 2:]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def records_of(folder: Path) -> pd.DataFrame:
    """Every run record (magvox_run.json) under ``folder``/<composite>/<configuration>/."""
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*/*/magvox_run.json"))]
    return pd.DataFrame(rows)


def record(folder: Path | None, composite: str, configuration: str) -> dict | None:
    path = None if folder is None else folder / composite / configuration / "magvox_run.json"
    return json.loads(path.read_text()) if path is not None and path.is_file() else None


@dataclass
class Sources:
    """Where a card's figures come from: the store, its campaign and the optional studies."""

    store: Path
    campaign: Path
    exchange: Path | None = None
    settings: Path | None = None  # data/settings (the study's runs beside its README.md)
    bond_check: Path | None = None

    def __post_init__(self) -> None:
        from data_prep.dataset.store import open_dataset

        ds = open_dataset(self.store)
        self.labels, self.index = ds.labels.set_index("composite"), ds.index
        self.records = records_of(self.campaign)
        self.ok = self.records[self.records["status"] == "ok"]
        self.xs = sorted({s["X"] for s in self.records["sites"]})


def _shown(value) -> str:
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):  # None, pd.NA, text
        return repr(value)


class Findings(list):
    """Disagreements, one line each."""

    def figure(self, where: str, printed: str | None, value) -> None:
        shown = _shown(value)
        if printed is None:
            self.append(f"{where}: not stated (expected {shown})")
        elif not agrees(printed, value):
            self.append(f"{where}: card says {printed}, the data {shown}")

    def same(self, where: str, stated, expected) -> None:
        if stated != expected:
            self.append(f"{where}: card says {stated!r}, the data {expected!r}")


def found(pattern: str, text: str, flags: int = re.DOTALL) -> tuple[str, ...] | None:
    match = re.search(pattern, text, flags)
    return match.groups() if match else None
