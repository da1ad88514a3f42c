"""``magvox search start --slurm`` on a real (throw-away) two-node Slurm: the job starts a Ray head
and a worker on the two nodes with token authentication, waits for both, and the driver runs
trials on both nodes, every trial in MLflow once, with the node it ran on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slurm_search_support import (
    cluster_yaml,
    job_log,
    kill_ray_of,
    start_on_slurm,
    trial_runs,
    wait_job_done,
)
from test_search_support import magvox

pytestmark = pytest.mark.slow
TRIALS = 6


def test_search_submitted_to_slurm_runs_trials_on_both_nodes(slurm, tmp_path: Path) -> None:
    cluster = cluster_yaml(tmp_path)
    try:
        job = start_on_slurm(slurm, tmp_path, "onslurm", TRIALS, cluster)
        search = tmp_path / "s" / "onslurm"
        state = wait_job_done(slurm, search, job, 300)
    finally:
        kill_ray_of(cluster)
    log = job_log(search, job)
    assert state == "COMPLETED", log[-5000:]
    # Ray reported both nodes with their CPU and fake GPUs (token auth on: RAY_AUTH_MODE=token)
    assert "magvox: 2 Ray nodes" in log and log.count("CPU=1 GPU=2") >= 2, log[-3000:]
    runs = trial_runs(tmp_path / "s", "onslurm")  # infeasible ones never reach a node
    ran = {t: r for t, r in runs.items() if r[0]["magvox.status"] != "infeasible"}
    assert len(ran) == TRIALS and all(len(r) == 1 for r in runs.values())
    assert {r[0]["magvox.status"] for r in ran.values()} <= {"completed", "pruned"}
    assert {r[0]["magvox.node"].split()[0] for r in ran.values()} == {"n1", "n2"}
    record = json.loads((search / "search.json").read_text())
    assert record["status"] == "finished" and record["extra"]["slurm_job_id"] == job
    out = magvox("search", "status", "onslurm", "--root", str(tmp_path / "s"), cwd=tmp_path,
                 env=slurm.env).stdout
    assert f"Slurm job {job}: COMPLETED" in out
