"""kill -9 of the search driver in the middle of a TPE search, then ``magvox search resume``: no
finished trial lost or re-run, the Optuna history intact, the search finishes all its trials."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from test_search_support import (
    completed_trials,
    magvox,
    optuna_trials,
    start_background,
    wait_until,
    write_space,
    write_tiny_dataset,
)

pytestmark = pytest.mark.slow
TRIALS = 6


def test_resume_after_kill_9_of_the_driver(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "tiny.zarr")
    space = write_space(tmp_path / "space.yaml")
    root, name = tmp_path / "s", "killed"
    log = tmp_path / "driver.log"
    proc = start_background(["search", "start", "--space", str(space), "--sampler", "tpe",
                             "--trials", str(TRIALS), "--dataset", str(data), "--root", str(root),
                             "--name", name], tmp_path, log)
    wait_until(lambda: len(completed_trials(root, name)) >= 2, 240, proc, log)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = completed_trials(root, name)
    history = optuna_trials(root / name)
    assert len(before) < TRIALS, f"search finished before the kill:\n{log.read_text()[-2000:]}"

    magvox("search", "resume", name, "--root", str(root), cwd=tmp_path, timeout=300)

    after = completed_trials(root, name)
    assert len(after) == TRIALS
    assert set(before) <= set(after)
    assert all(after[t] == before[t] == 2 for t in before)  # not re-run: still 2 epochs logged
    final = optuna_trials(root / name)
    for number, (state, params) in history.items():  # sampler history intact
        assert final[number][1] == params
        if state == "COMPLETE":
            assert final[number][0] == "COMPLETE"
    states = [s for s, _ in final.values()]
    assert states.count("COMPLETE") == TRIALS and "RUNNING" not in states
