"""Benchmark records: one JSON file per measurement, the source BENCHMARKS.md is rendered from.

Each ``magvox bench`` subcommand writes ``data/benchmarks/<measure>/<date>T<time>Z-<commit>.json``::

    {"measure": "learner", "date": "2026-12-07T04:10Z", "commit": "987b382",
     "machine": {"cores": 2, "cpu": "AMD EPYC ...", "torch_threads": 2, "torch": "2.13.0+cpu",
                 "gpu": null},
     "load": [1.5, 1.9],             # 1-min load average at the start and at the end
     "command": "magvox bench learner",
     "figures": {...}}               # the measure's own figures (search.bench.tables)

``commit`` ends in ``+dirty`` when the work tree had uncommitted changes. Paths in the command
and the figures are relative to the directory the bench ran in (``portable``): no record names a
machine's folders. Records are never rewritten; the page shows the newest first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from data_prep.io.fileio import write_text_atomic
from search.tracking.provenance import ABSOLUTE_PATH, load_average, portable

RECORDS_DIR = Path("data/benchmarks")  # relative to the repository (the bench's working dir)
REQUIRED = ("measure", "date", "commit", "machine", "load", "command", "figures")


def write_record(measure: str, figures: dict[str, Any], started: dict[str, Any],
                 root: str | Path = RECORDS_DIR) -> Path:
    """Write the record of ``measure`` (figures made portable) atomically; -> its path."""
    record = {"measure": measure, **started, "load": [*started["load"], load_average()],
              "figures": json.loads(portable(json.dumps(figures)))}
    check_record(record, f"{measure} record")
    stamp = record["date"].replace(":", "")
    path = Path(root) / measure / f"{stamp}-{record['commit'].replace('+', '-')}.json"
    n = 1
    while path.exists():  # two records in one minute: keep both
        n += 1
        path = path.with_name(f"{stamp}-{record['commit'].replace('+', '-')}-{n}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(record, indent=1) + "\n")
    return path


def check_record(record: dict[str, Any], where: str) -> None:
    """ValueError naming ``where`` if a required field is missing or a machine path is in it."""
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ValueError(f"{where}: lacks {', '.join(missing)}")
    paths = ABSOLUTE_PATH.findall(json.dumps(record))
    if paths:
        raise ValueError(f"{where}: holds machine paths ({', '.join(paths[:3])})")


def load_records(measure: str, root: str | Path = RECORDS_DIR) -> list[dict[str, Any]]:
    """Every record of ``measure``, newest first; ValueError naming a malformed file."""
    folder = Path(root) / measure
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from exc
        check_record(record, str(path))
        if record["measure"] != measure:
            raise ValueError(f"{path}: a {record['measure']} record in the {measure} folder")
        records.append(record)
    return sorted(records, key=lambda r: r["date"], reverse=True)


def machine_text(record: dict[str, Any]) -> str:
    """'2 cores (AMD EPYC 7B13), 2 torch threads, torch 2.13.0+cpu' (+ the GPU)."""
    m = record["machine"] or {}
    parts = [f"{m.get('cores', '?')} cores ({m.get('cpu', 'CPU not recorded')})"]
    if m.get("torch_threads"):
        parts.append(f"{m['torch_threads']} torch threads")
    if m.get("torch"):
        parts.append(f"torch {m['torch']}")
    if m.get("gpu"):
        parts.append(str(m["gpu"]))
    return ", ".join(parts)


def load_text(record: dict[str, Any]) -> str:
    """'1.5-1.9' (start-end), or what the record says instead ('not recorded')."""
    load = record["load"]
    if isinstance(load, str):
        return load
    if not load:
        return "not recorded"
    return "-".join(f"{v:.1f}" for v in dict.fromkeys(load))
