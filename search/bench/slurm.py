"""``magvox bench slurm cluster.yaml``: the search service's cost on a Slurm cluster (the
``slurm`` record).

For each bench configuration (``search.bench.service.CONFIGS``) a search of identical trials, one
at a
time, is submitted with ``--slurm`` and waited for. From its MLflow runs and ``slurm.json``:

- submit to first trial: from ``sbatch`` returning to the first trial's start (Slurm scheduling,
  Ray on every node, driver start-up, dataset read and hand-over);
- per trial: the median interval between successive trial ends, minus ``run_trial`` of the same
  configuration called directly here (the nodes must be like this machine for the difference
  to mean the service's overhead; on this project's test Slurm they are this machine).
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from search.bench.service import (
    CONFIGS,
    bare_trial_s,
    fixed_space,
    steady_state,
    trial_times,
)
from search.cluster import slurm
from search.cluster.spec import load_cluster
from search.tune import service
from search.tune.state import SearchPaths


def wait_for_job(job_id: str, timeout_s: float = 3600) -> str:
    """Poll Slurm until the job has left the queue; its last state."""
    end = time.time() + timeout_s
    while time.time() < end:
        state = slurm.job_state(job_id)
        if state not in slurm.ACTIVE:
            return state
        time.sleep(2)
    raise TimeoutError(f"Slurm job {job_id} still {state} after {timeout_s:.0f} s")


def slurm_overhead(cluster_yaml: str, dataset: str, root: Path, fields: dict[str, Any],
                   target: str, trials: int) -> dict[str, float]:
    """Submit ``trials`` identical trials (one at a time), wait, and measure them."""
    from search.tune.data import load_shared

    bare = bare_trial_s(load_shared(dataset), {**fields, "target": target}, repeats=3)
    name = f"bench-slurm-{len(list(root.glob('bench-slurm-*')))}"
    space = fixed_space(root, fields, target, trials)
    opts = service.StartOptions(space=str(space), name=name, dataset=dataset, root=str(root))
    _, job_id = slurm.submit(cluster_yaml, opts)
    state = wait_for_job(job_id)
    paths = SearchPaths(root, name)
    log = paths.folder / f"slurm-{job_id}.out"
    if state != "COMPLETED":
        raise RuntimeError(f"bench job {job_id} ended {state}; see {log}")
    submitted = datetime.fromisoformat(slurm.load_jobs(paths)["jobs"][-1]["submitted"])
    times = trial_times(root, name)
    return {"trials": trials, **steady_state(times, bare),
            "first_trial_s": times[0][0] - submitted.timestamp(), "job": job_id}


def measure_slurm(cluster_yaml: str, dataset: str,
                  labels: list[str] | None = None) -> dict[str, Any]:
    """Run the Slurm measurements in a throw-away searches root inside the cluster's shared
    workdir -> the ``slurm`` record's figures (``rows`` as the service record's, with the time
    from sbatch to the first trial)."""
    spec = load_cluster(cluster_yaml)
    workdir = Path(spec.workdir).resolve()
    with tempfile.TemporaryDirectory(prefix="magvox-bench-slurm-", dir=workdir) as tmp:
        results = {label: slurm_overhead(cluster_yaml, dataset, Path(tmp), fields,
                                         "ground_state", n)
                   for label, (fields, n) in CONFIGS.items()
                   if labels is None or label in labels}
    return {"dataset": dataset, "target": "ground_state", "rows": results,
            "cluster": {"nodes": spec.nodes, "cpus_per_node": spec.cpus_per_node,
                        "partition": spec.partition}}
