"""``magvox search start --slurm`` on a real (throw-away) two-node Slurm: the job starts a Ray head
and a worker on the two nodes with token authentication, waits for both, and the driver runs
trials on both nodes, every trial in MLflow once, with the node it ran on. Trials given a (fake)
GPU fail at once naming their node; a cluster.yaml Slurm cannot serve is refused before any
submission."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from slurm_search_support import (
    cluster_yaml,
    job_log,
    kill_ray_of,
    search_inputs,
    start_on_slurm,
    trial_runs,
    wait_job_done,
)
from test_search_support import magvox, wait_until

pytestmark = pytest.mark.slow
TRIALS = 6


def test_search_submitted_to_slurm_runs_trials_on_both_nodes(slurm, tmp_path: Path) -> None:
    cluster = cluster_yaml(tmp_path, ray={"head_interface": "lo"})  # the nodes' NodeAddr
    search = tmp_path / "s" / "onslurm"
    try:
        job = start_on_slurm(slurm, tmp_path, "onslurm", TRIALS, cluster)
        wait_until(lambda: "magvox: 2 Ray nodes at" in job_log(search, job), 180)
        address = re.search(r"2 Ray nodes at (\S+)", job_log(search, job)).group(1)
        assert address.startswith("127.0.0.1:")  # the head's address on interface lo
        assert_token_is_required(address, search / "ray_token")
        state = wait_job_done(slurm, search, job, 300)
    finally:
        kill_ray_of(cluster)
    log = job_log(search, job)
    assert state == "COMPLETED", log[-5000:]
    # Ray reported both nodes with their CPU and fake GPUs
    assert log.count("CPU=1 GPU=2") >= 2, log[-3000:]
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


def assert_token_is_required(address: str, token: Path) -> None:
    """The job's Ray answers with the search's token and refuses a client without it."""
    probe = ("import sys; from search.cluster.raynodes import alive_nodes; "
             f"print(len(alive_nodes({address!r})))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    refused = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             env={**env, "RAY_AUTH_MODE": "disabled"}, timeout=120)
    assert refused.returncode != 0 and "AuthenticationError" in refused.stderr
    allowed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             env={**env, "RAY_AUTH_MODE": "token",
                                  "RAY_AUTH_TOKEN_PATH": str(token)}, timeout=120)
    assert allowed.stdout.strip() == "2", allowed.stderr[-2000:]


def test_gpu_trials_get_a_fake_gpu_and_fail_at_once_naming_the_node(slurm,
                                                                    tmp_path: Path) -> None:
    cluster = cluster_yaml(tmp_path)
    try:  # Ray sees 2 GPUs per node; each trial is given one, but CUDA is not there
        job = start_on_slurm(slurm, tmp_path, "gpus", 2, cluster, gpus_per_trial=1)
        search = tmp_path / "s" / "gpus"
        state = wait_job_done(slurm, search, job, 240)
    finally:
        kill_ray_of(cluster)
    log = job_log(search, job)
    assert state == "COMPLETED" and log.count("CPU=1 GPU=2") >= 2, log[-4000:]
    runs = trial_runs(tmp_path / "s", "gpus")
    failed = [r[0] for r in runs.values() if r[0]["magvox.status"] == "failed"]
    assert len(failed) == 2, runs
    for tags in failed:
        assert re.search(r"node n[12] \(ray node \w+\): Ray gave this trial GPU \[", tags[
            "magvox.reason"]) and "CUDA is not usable" in tags["magvox.reason"]


@pytest.mark.parametrize(("slurm_keys", "message"), [
    ({"partition": "nope"}, "slurm.partition: Slurm has no partition 'nope' (it has: gpu)"),
    ({"nodes": 3}, "slurm.nodes: 3 asked for, partition 'gpu' has at most 2 nodes"),
    ({"cpus_per_node": 3}, "slurm.cpus_per_node: 3 asked for"),
    ({"gpus_per_node": 3}, "slurm.gpus_per_node: 3 asked for"),
    ({"time": "2-00:00:00"}, "slurm.time: 2-00:00:00 is more than partition 'gpu' allows"),
    ({"gpus": 1}, "slurm.gpus: unknown key"),
])
def test_bad_cluster_file_is_one_line_before_anything_is_submitted(
        slurm, tmp_path: Path, slurm_keys: dict, message: str) -> None:
    data, space = search_inputs(tmp_path)
    cluster = cluster_yaml(tmp_path, slurm=slurm_keys)
    done = magvox("search", "start", "--slurm", str(cluster), "--space", str(space),
                  "--dataset", str(data), "--root", str(tmp_path / "s"), "--name", "bad",
                  cwd=tmp_path, env=slurm.env, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert str(cluster) in done.stderr
    assert not (tmp_path / "s" / "bad" / "slurm.json").exists()
    assert slurm.run("squeue", "-h", "-n", "mvtest").stdout == ""
