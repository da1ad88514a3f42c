"""The run record (magvox_run.json): written atomically, read back, a damaged one named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.errors import MagvoxInputError
from data_prep.io.run_record import (
    RUN_JSON,
    find_run_record,
    read_run_record,
    run_records,
    write_run_record,
)


def test_written_record_reads_back_and_leaves_no_temporary(tmp_path: Path) -> None:
    run = tmp_path / "Cr2Ge2Te6" / "FM"
    run.mkdir(parents=True)
    rec = {"schema": 1, "composite": "Cr2Ge2Te6", "configuration": "FM", "moment_uB": 6.0}
    path = write_run_record(run, rec)
    assert path == run / RUN_JSON
    assert sorted(p.name for p in run.iterdir()) == [RUN_JSON]
    assert read_run_record(path, schema=True) == rec == find_run_record(run)
    assert run_records(tmp_path) == [rec]
    assert find_run_record(tmp_path / "absent") is None


@pytest.mark.parametrize("text, schema", [("{", False), ("[1, 2]", False), ("{}", True)])
def test_damaged_record_is_an_error_naming_the_file(tmp_path: Path, text: str,
                                                    schema: bool) -> None:
    path = tmp_path / RUN_JSON
    path.write_text(text)
    with pytest.raises(MagvoxInputError) as err:
        read_run_record(path, schema=schema)
    assert err.value.path == str(path) and "run metadata" in err.value.reason


def test_schema_is_checked_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / RUN_JSON
    path.write_text(json.dumps({"status": "ok"}))
    assert read_run_record(path) == {"status": "ok"}
