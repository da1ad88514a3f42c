"""``magvox search extend``: a finished search gets more trials on the same Optuna study and MLflow
experiment; a kill -9 in the middle of the new round and ``magvox search resume`` finish it with
no trial run twice and the history of both rounds intact."""

from __future__ import annotations

import json
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
FIRST, MORE = 3, 4


def ended_trials(root: Path, name: str) -> dict[str, int]:
    """trial id -> val_loss points, for the trials that ended for good (completed, or stopped
    early by ASHA: both count towards --trials)."""
    return completed_trials(root, name, ("completed", "pruned"))


def test_extend_killed_mid_round_then_resumed(tmp_path: Path) -> None:
    import mlflow

    from data_prep.dataset.holdout import scorings

    data = write_tiny_dataset(tmp_path / "tiny.zarr")
    space = write_space(tmp_path / "space.yaml")
    root, name = tmp_path / "s", "grown"
    magvox("search", "start", "--space", str(space), "--sampler", "tpe", "--trials", str(FIRST),
           "--dataset", str(data), "--root", str(root), "--name", name, cwd=tmp_path,
           timeout=300)
    first = ended_trials(root, name)
    history = optuna_trials(root / name)
    assert len(first) == FIRST and len(history) == FIRST

    log = tmp_path / "extend.log"
    proc = start_background(["search", "extend", name, "--trials", str(MORE), "--root",
                             str(root)], tmp_path, log)
    wait_until(lambda: len(ended_trials(root, name)) >= FIRST + 1, 240, proc, log)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    mid = ended_trials(root, name)
    assert FIRST < len(mid) < FIRST + MORE, f"round over before the kill:\n{log.read_text()}"
    assert set(first) <= set(mid) and all(mid[t] == first[t] for t in first)

    # an unfinished search cannot be extended: one line, exit 2, the record untouched
    record_text = (root / name / "search.json").read_text()
    refused = magvox("search", "extend", name, "--trials", "2", "--root", str(root),
                     cwd=tmp_path, check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"magvox search extend: search {name!r} is running, not finished: "
        f"`magvox search resume {name}` first, then extend it"]
    assert (root / name / "search.json").read_text() == record_text

    # `search best` mid-round never trains: the test split is not scored again
    looks = len(scorings(data))
    best = magvox("search", "best", name, "--root", str(root), cwd=tmp_path)
    assert len(scorings(data)) == looks and "re-run: magvox train" in best.stdout

    out = magvox("search", "resume", name, "--root", str(root), cwd=tmp_path, timeout=300)
    assert f"search {name}: finished" in out.stdout, out.stdout[-2000:]

    final = ended_trials(root, name)
    assert len(final) == FIRST + MORE
    assert all(final[t] == mid[t] for t in mid)  # none re-run: same epochs logged
    study = optuna_trials(root / name)
    assert [s for s, _ in study.values()].count("COMPLETE") == FIRST + MORE
    for number, (state, params) in history.items():  # round 0 as it was
        assert study[number] == (state, params)
    old = [sorted(p.items()) for _, p in history.values()]
    new = [sorted(p.items()) for n, (s, p) in study.items()
           if n not in history and s == "COMPLETE"]
    assert len(new) == MORE and not any(p in old for p in new)  # no earlier point proposed again
    # a trial handed out by the killed driver but never run is closed as failed, not left open
    assert {s for n, (s, _) in study.items() if n not in history} <= {"COMPLETE", "FAIL"}

    record = json.loads((root / name / "search.json").read_text())
    assert record["status"] == "finished" and record["trials"] == FIRST + MORE
    assert record["extra"]["rounds"] == [FIRST, MORE]
    assert (root / name / "tune-2").is_dir()
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    parent = client.get_run(record["parent_run_id"])
    assert parent.info.status == "FINISHED" and parent.data.tags["magvox.rounds"] == "3+4"
    children = client.search_runs([record["experiment_id"]],
                                  f"tags.mlflow.parentRunId = '{record['parent_run_id']}'")
    assert len({r.data.tags["magvox.trial_id"] for r in children}) == len(children)
    assert set(final) <= {r.data.tags["magvox.trial_id"] for r in children}

    status = magvox("search", "status", name, "--root", str(root), cwd=tmp_path)
    assert f"trials: {FIRST + MORE}/{FIRST + MORE} finished" in status.stdout, status.stdout
