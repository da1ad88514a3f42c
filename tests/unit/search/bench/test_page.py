"""BENCHMARKS.md is rendered from the records: the committed page is current, a page edited by
hand or a record added without rendering is caught, and a broken page.yaml is named."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.bench import page
from search.tracking.provenance import ABSOLUTE_PATH

REPO = Path(__file__).resolve().parents[4]


def _check(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search.commands.cli", "bench", "page",
                           "--check", *extra], cwd=REPO, capture_output=True, text=True)


def test_the_committed_page_is_what_the_records_give():
    run = _check()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    text = (REPO / "BENCHMARKS.md").read_text()
    assert not ABSOLUTE_PATH.findall(text)  # no machine's folders
    assert text.count("**current**") >= 5  # each bench table leads with its current record


def test_the_page_quotes_each_assessment_record(monkeypatch):
    """Each nested row's CNN cell is that record's pooled score, with its provenance."""
    monkeypatch.chdir(REPO)
    text = page.render()
    for name in ("gs-fm-preset", "t2-preset", "mo-fm-tpe"):
        summary = json.loads((REPO / "data/assessments" / name / "assessment.json").read_text())
        v, lo, hi = summary["scores"]["cnn"]
        line = next(ln for ln in text.splitlines() if f"(`{name}`)" in ln and "record" not in ln)
        assert f"| {v:.3f} [{lo:.3f}, {hi:.3f}] |" in line
        assert f"{summary['provenance']['date'][:10]} ({summary['provenance']['commit']})" in line


def test_a_hand_edit_or_an_unrendered_record_is_caught(tmp_path):
    edited = tmp_path / "BENCHMARKS.md"
    text = (REPO / "BENCHMARKS.md").read_text()
    edited.write_text(text.replace("0.824 [0.763, 0.878]", "0.900 [0.850, 0.950]", 1))
    run = _check("--page", str(edited))
    row = "| FM density, the enqueued preset alone (1 trial) (`gs-fm-preset`) | "
    assert run.returncode == 1 and f"-{row}0.900 [0.850, 0.950]" in run.stdout
    assert f"+{row}0.824 [0.763, 0.878]" in run.stdout
    assert "is not what the records give" in run.stderr
    records = tmp_path / "records"
    shutil.copytree(REPO / "data/benchmarks", records)
    newest = sorted((records / "learner").glob("*.json"))[-1]
    record = json.loads(newest.read_text())
    record["date"] = "2099-01-01T00:00Z"
    (records / "learner" / "2099-01-01T0000Z-abc1234.json").write_text(json.dumps(record))
    run = _check("--records", str(records))
    assert run.returncode == 1 and "+| 2099-01-01 00:00 UTC" in run.stdout


def test_a_broken_page_description_is_named(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(REPO / "data/benchmarks", records)
    spec = records / "page.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("- records: base", "- tables: base"))
    with pytest.raises(ValueError, match=re.escape(f"{spec}: section") + ".*tables"):
        page.render(records, REPO / "data/assessments")
    spec.write_text(original.replace("notes: base.md", "notes: gone.md"))
    with pytest.raises(FileNotFoundError, match=r"gone\.md: notes named in page\.yaml"):
        page.render(records, REPO / "data/assessments")
    spec.write_text(original)
    shutil.rmtree(records / "slurm")
    with pytest.raises(ValueError, match="no records of 'slurm'"):
        page.render(records, REPO / "data/assessments")
