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


@pytest.mark.parametrize("cut", [False, True], ids=["state-whole", "state-cut-mid-write"])
def test_resume_after_kill_9_of_the_driver(tmp_path: Path, cut: bool) -> None:
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
    if cut:  # the kill fell in Tune's copy of its state files (seen in a scancel on Slurm)
        state = next((root / name / "tune").glob("experiment_state-*.json"))
        searcher = next((root / name / "tune").glob("searcher-state-*.pkl"))
        state.write_bytes(b"")
        searcher.write_bytes(searcher.read_bytes()[:20])

    out = magvox("search", "resume", name, "--root", str(root), cwd=tmp_path, timeout=300)

    assert ("was cut off mid-write when the driver was killed; put back its last whole save"
            in out.stdout) == cut, out.stdout[-3000:]

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


def trial_workers(pid: int) -> list[int]:
    """Ray's trial worker processes (``ray::ImplicitFunc``) started under the driver ``pid``."""
    import subprocess

    rows = [line.split(None, 2) for line in subprocess.run(
        ["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()]
    children: dict[int, list[int]] = {}
    for row in rows:
        children.setdefault(int(row[1]), []).append(int(row[0]))
    args = {int(row[0]): row[2] if len(row) > 2 else "" for row in rows}
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if "ImplicitFunc" in args[child]:
                found.append(child)
    return found


def running_epochs(root: Path, name: str) -> int:
    """The most val_loss points any still-running trial run has logged."""
    import sqlite3

    try:
        with sqlite3.connect(root / "mlflow.db", timeout=30) as con:
            rows = con.execute(
                "SELECT COUNT(m.key) FROM tags s JOIN runs r ON r.run_uuid = s.run_uuid"
                " JOIN experiments e ON e.experiment_id = r.experiment_id"
                " LEFT JOIN metrics m ON m.run_uuid = s.run_uuid AND m.key = 'val_loss'"
                " WHERE s.key = 'magvox.status' AND s.value = 'running' AND e.name = ?"
                " GROUP BY s.run_uuid", (name,)).fetchall()
    except sqlite3.OperationalError:  # store still being created by the driver
        return 0
    return max((n for (n,) in rows), default=0)


def test_a_trial_whose_worker_dies_is_started_again_not_failed(tmp_path: Path) -> None:
    """kill -9 of the trial workers (as Slurm kills them when it takes the allocation back):
    Tune starts the trials again, the search ends with every trial completed, one run each."""
    import sqlite3

    import yaml
    from test_search_support import TINY_SPACE

    data = write_tiny_dataset(tmp_path / "tiny.zarr")
    # grace past the last epoch: ASHA stops neither trial, so both must end completed
    space = {**TINY_SPACE, "fixed": {**TINY_SPACE["fixed"], "epochs": 150},
             "settings": {**TINY_SPACE["settings"], "grace_epochs": 151, "trials": 2}}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    root, name = tmp_path / "s", "lostworker"
    log = tmp_path / "driver.log"
    proc = start_background(["search", "start", "--space", str(tmp_path / "space.yaml"),
                             "--trials", "2", "--dataset", str(data), "--root", str(root),
                             "--name", name], tmp_path, log)
    wait_until(lambda: running_epochs(root, name) >= 3 and trial_workers(proc.pid), 240, proc,
               log)
    killed = trial_workers(proc.pid)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert len(completed_trials(root, name)) == 2, log.read_text()[-3000:]
    with sqlite3.connect(root / "mlflow.db") as con:
        restarts = con.execute("SELECT value FROM tags WHERE key = 'magvox.restarts'").fetchall()
        causes = con.execute(
            "SELECT value FROM tags WHERE key = 'magvox.restart_reason'").fetchall()
    assert restarts and all(value == "1" for (value,) in restarts), (killed, restarts)
    assert all("died" in cause.lower() for (cause,) in causes), causes
