"""Benchmark records: written with their provenance, read back newest first, never a machine
path, and bad files named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from search.bench.records import check_record, load_records, write_record
from search.tracking.provenance import command_line, commit, portable, start

REPO = Path(__file__).resolve().parents[4]


def test_a_record_carries_its_provenance_and_no_machine_path(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    started = start(command_line(["bench", "learner", "--dataset",
                                  str(REPO / "data" / "cgt_te.zarr")]))
    assert started["command"] == "magvox bench learner --dataset data/cgt_te.zarr"
    assert started["commit"] == commit(REPO) and len(started["commit"].split("+")[0]) == 7
    assert commit(tmp_path).startswith("magvox ")  # outside git: the installed version
    assert started["machine"]["cores"] == os.cpu_count() and started["machine"]["torch"]
    figures = {"dataset": str(REPO / "data" / "cgt_te.zarr"), "elsewhere": "/opt/x/y.yaml",
               "units": "uB/A^3, 0.3 s / 0.2 s"}
    path = write_record("learner", figures, started, tmp_path)
    record = json.loads(path.read_text())
    assert record["figures"] == {"dataset": "data/cgt_te.zarr", "elsewhere": ".../x/y.yaml",
                                 "units": "uB/A^3, 0.3 s / 0.2 s"}
    assert len(record["load"]) == 2 and path.parent == tmp_path / "learner"
    assert path.name.startswith(record["date"].replace(":", ""))
    again = write_record("learner", {"n": 2}, {**started, "date": "2027-01-01T00:00Z"}, tmp_path)
    twin = write_record("learner", {"n": 3}, {**started, "date": "2027-01-01T00:00Z"}, tmp_path)
    assert again != twin  # two in one minute: both kept
    got = load_records("learner", tmp_path)
    assert [r["figures"].get("n") for r in got][:2] in ([2, 3], [3, 2])
    assert got[-1]["figures"]["dataset"] == "data/cgt_te.zarr"  # the oldest last


def test_bad_records_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="lacks commit, machine"):
        check_record({"measure": "x", "date": "d", "load": [], "command": "c",
                      "figures": {}}, "x.json")
    with pytest.raises(ValueError, match=r"machine paths .*/home/me/data"):
        check_record({"measure": "x", "date": "d", "commit": "c", "machine": {}, "load": [],
                      "command": "magvox bench base --dataset /home/me/data", "figures": {}},
                     "x.json")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json: not JSON"):
        load_records("base", tmp_path)


def test_portable_keeps_what_is_not_a_path():
    base = "/work/project"
    assert portable("/work/project/data/a.zarr in /work/project", base) == "data/a.zarr in ."
    assert portable("lr 0.01/0.03, uB/A^3, +/- 0.2", base) == "lr 0.01/0.03, uB/A^3, +/- 0.2"


def test_every_committed_record_loads():
    """The records the page is rendered from: each parses, has its provenance and no path."""
    root = REPO / "data" / "benchmarks"
    measures = [p.name for p in root.iterdir() if p.is_dir() and p.name != "notes"]
    assert {"learner", "base", "service", "slurm", "learning", "explain"} <= set(measures)
    for measure in measures:
        records = load_records(measure, root)
        assert records, measure
        assert [r["date"] for r in records] == sorted((r["date"] for r in records), reverse=True)
