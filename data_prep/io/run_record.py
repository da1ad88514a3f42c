"""A run's record, ``magvox_run.json``: its name, its one reader and its one (atomic) writer.

A magvox run folder ``<root>/<composite>/<configuration>/`` (docs/CONTRACTS.md) holds the record of
its run: a JSON object (schema 1) with composite, configuration, status, reason, energy_eV,
moment_uB, site_moments_uB, parameters, ... Every module that reads or writes one goes through here.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import write_text_atomic

RUN_JSON = "magvox_run.json"
SCHEMA = 1


def read_run_record(path: str | Path, *, schema: bool = False) -> dict:
    """The record in ``path`` (a magvox_run.json).

    MagvoxInputError naming the file when it cannot be read, is not JSON or not a JSON object,
    and (``schema``) when it does not say schema 1.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MagvoxInputError(path, f"unreadable run metadata: {exc}") from None
    if not isinstance(record, dict) or (schema and record.get("schema") != SCHEMA):
        wanted = f"a JSON object with schema {SCHEMA}" if schema else "a JSON object"
        raise MagvoxInputError(path, f"run metadata: expected {wanted}")
    return record


def find_run_record(run_dir: str | Path) -> dict | None:
    """The record of the run folder ``run_dir``, or None when it has none (not finished)."""
    path = Path(run_dir) / RUN_JSON
    return read_run_record(path) if path.is_file() else None


def run_records(root: str | Path) -> list[dict]:
    """Every record under ``root``/<composite>/<configuration>/, in path order."""
    return [read_run_record(p) for p in sorted(Path(root).glob(f"*/*/{RUN_JSON}"))]


def write_run_record(run_dir: str | Path, record: dict) -> Path:
    """Write ``record`` as ``run_dir``/magvox_run.json through a temporary file and a rename, so
    a kill never leaves half a record; -> its path."""
    text = json.dumps(record, indent=1, sort_keys=True)
    return write_text_atomic(Path(run_dir) / RUN_JSON, text)
