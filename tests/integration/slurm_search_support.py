"""Helpers for the Slurm search tests (no tests here): a cluster.yaml for the test Slurm, the
submitted search's job, and what its MLflow store and Optuna study hold."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import time
import uuid
from pathlib import Path

import yaml
from test_search_support import magvox, write_space, write_tiny_dataset

REPO = Path(__file__).resolve().parents[2]
TRIAL_SETTINGS = {"cpus_per_trial": 1, "checkpoint_every_s": 0}
RAY_PORTS = ("port", "dashboard_port", "object_manager_port",
             "node_manager_port", "metrics_export_port", "dashboard_agent_listen_port",
             "dashboard_agent_grpc_port", "runtime_env_agent_port")


def _port_base() -> int:
    """A base port with base .. base + 2000 free now (two nodes, offset 1000)."""
    for _ in range(50):
        base = random.randrange(20000, 58000, 10)
        if all(_free(base + d) for d in (*range(10), 100, 1000, *range(1000, 1010), 1100)):
            return base
    raise RuntimeError("no free port range found")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def merged(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` merged in, mapping by mapping (neither is modified)."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = merged(out[key], value)
        out[key] = value
    return out


def cluster_yaml(folder: Path, slurm: dict | None = None, ray: dict | None = None) -> Path:
    """The shipped cluster.yaml with only what the test Slurm needs changed: 2 nodes, 1 CPU and
    2 fake GPUs each, ports of its own (node i at + 1000 i), a Ray session folder of its own, no
    environment set-up (its modules and venv are not here), workdir ``folder``. Everything else,
    include_dashboard among it, stays as shipped: a default that fails on a fresh install fails
    here too."""
    base = _port_base()
    ports = {key: base + i for i, key in enumerate(RAY_PORTS)}
    test_host = {
        "slurm": {"partition": "gpu", "nodes": 2, "gpus_per_node": 2, "cpus_per_node": 1,
                  "time": "00:15:00", "signal_s": 60, "job_name": "mvtest", **(slurm or {})},
        "ray": {**ports, "min_worker_port": base + 100, "max_worker_port": base + 400,
                "node_port_offset": 1000, "nodes_timeout_s": 120,
                "temp_dir": f"/tmp/mvr-{uuid.uuid4().hex[:8]}", **(ray or {})},
        "env": {"setup": "", "workdir": str(folder)},
    }
    shipped = yaml.safe_load((REPO / "cluster.yaml").read_text())
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(merged(shipped, test_host), sort_keys=False))
    return path


def search_inputs(folder: Path, epochs: int | None = None,
                  **settings: object) -> tuple[Path, Path]:
    """The tiny dataset and the tiny space (1 CPU per trial) under ``folder``; ``epochs``: that
    many epochs per trial, none stopped early by ASHA."""
    data = write_tiny_dataset(folder / "tiny.zarr")
    space = write_space(folder / "space.yaml", **{**TRIAL_SETTINGS, **settings})
    if epochs:
        raw = yaml.safe_load(space.read_text())
        raw["fixed"]["epochs"] = epochs
        raw["settings"]["grace_epochs"] = epochs + 1  # ASHA: no rung below max_t
        space.write_text(yaml.safe_dump(raw))
    return data, space


def start_on_slurm(slurm, folder: Path, name: str, trials: int, cluster: Path,
                   epochs: int | None = None, **settings: object) -> str:
    """``magvox search start --slurm`` of the tiny search; returns the Slurm job id."""
    data, space = search_inputs(folder, epochs, **settings)
    magvox("search", "start", "--slurm", str(cluster), "--space", str(space), "--sampler",
           "random", "--trials", str(trials), "--dataset", str(data), "--root",
           str(folder / "s"), "--name", name, cwd=folder, env=slurm.env, timeout=120)
    return job_ids(folder / "s" / name)[-1]


def job_ids(search: Path) -> list[str]:
    """Slurm jobs submitted for a search (its slurm.json)."""
    return [j["job_id"] for j in json.loads((search / "slurm.json").read_text())["jobs"]]


def job_log(search: Path, job_id: str) -> str:
    log = search / f"slurm-{job_id}.out"
    return log.read_text() if log.is_file() else "(no job log yet)"


def wait_job_done(slurm, search: Path, job_id: str, timeout: float) -> str:
    """Wait until Slurm's job left the queue; its final state (COMPLETED, FAILED ...)."""
    end = time.time() + timeout
    while time.time() < end:
        state = slurm.job_field(job_id, "JobState")
        if state and state not in ("PENDING", "RUNNING", "COMPLETING", "REQUEUED",
                                   "CONFIGURING"):
            return state
        time.sleep(1)
    raise AssertionError(f"job {job_id} still {state} after {timeout} s:\n"
                         f"{job_log(search, job_id)[-4000:]}")


def trial_runs(root: Path, name: str) -> dict[str, list[dict[str, str]]]:
    """trial id -> the tags of each of its MLflow runs (several runs = a trial logged twice)."""
    with sqlite3.connect(root / "mlflow.db", timeout=30) as con:
        rows = con.execute(
            "SELECT r.run_uuid, t.key, t.value FROM runs r JOIN experiments e"
            " ON e.experiment_id = r.experiment_id JOIN tags t ON t.run_uuid = r.run_uuid"
            " WHERE e.name = ? AND t.key LIKE 'magvox.%'", (name,)).fetchall()
    runs: dict[str, dict[str, str]] = {}
    for run, key, value in rows:
        runs.setdefault(run, {})[key] = value
    out: dict[str, list[dict[str, str]]] = {}
    for tags in runs.values():
        if "magvox.trial_id" in tags:
            out.setdefault(tags["magvox.trial_id"], []).append(tags)
    return out


def kill_ray_of(cluster: Path) -> None:
    """Kill leftover processes of the test's Ray (their command line names its temp dir), then
    remove that session folder."""
    temp = yaml.safe_load(cluster.read_text())["ray"]["temp_dir"]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if temp in cmd:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass
    shutil.rmtree(temp, ignore_errors=True)
