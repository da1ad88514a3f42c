"""SLURM launch: ``cluster.yaml`` -> a batch script that starts Ray on the allocated nodes and runs
the search driver against it. The script resumes the search when its state already exists, so
resubmitting after a lost allocation (or ``--requeue``) continues where it stopped.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ClusterSpec:
    """What ``cluster.yaml`` describes (see the file at the repository root for each field).

    Attributes:
        partition, nodes, gpus_per_node, cpus_per_node, time, account, job_name, requeue,
        sbatch_extra: the SLURM allocation (``time`` as HH:MM:SS or D-HH:MM:SS).
        port: Ray head GCS port; dashboard_port, object_manager_port, node_manager_port,
        min_worker_port, max_worker_port: Ray's other ports (fixed, for firewalled clusters).
        temp_dir: node-local Ray session folder.
        setup: shell lines run first on every node (modules, virtual environment).
        workdir: shared folder the driver runs in (holds searches/).
    """

    partition: str = "gpu"
    nodes: int = 1
    gpus_per_node: int = 1
    cpus_per_node: int = 8
    time: str = "04:00:00"
    account: str | None = None
    job_name: str = "magvox-search"
    requeue: bool = True
    sbatch_extra: tuple[str, ...] = ()
    port: int = 6379
    dashboard_port: int = 8265
    object_manager_port: int = 8076
    node_manager_port: int = 8077
    min_worker_port: int = 10002
    max_worker_port: int = 19999
    temp_dir: str = "/tmp/ray-magvox"
    setup: str = ""
    workdir: str = "."
    extra: dict[str, Any] = field(default_factory=dict)


def load_cluster(path: str | Path) -> ClusterSpec:
    """Read cluster.yaml (sections ``slurm``, ``ray``, ``env``); errors name the file and key."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    flat: dict[str, Any] = {}
    for section in ("slurm", "ray", "env"):
        flat.update(raw.get(section) or {})
    known = set(ClusterSpec.__dataclass_fields__)
    unknown = sorted(set(flat) - known)
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; known: {sorted(known)}")
    if "sbatch_extra" in flat:
        flat["sbatch_extra"] = tuple(flat["sbatch_extra"] or ())
    spec = ClusterSpec(**flat)
    if spec.nodes < 1 or spec.gpus_per_node < 0 or spec.cpus_per_node < 1:
        raise ValueError(f"{path}: nodes and cpus_per_node must be >= 1, gpus_per_node >= 0")
    return spec


def sbatch_header(spec: ClusterSpec, log: str) -> list[str]:
    """The ``#SBATCH`` lines: one task per node, all its CPUs and GPUs to that task."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={spec.job_name}",
             f"#SBATCH --partition={spec.partition}", f"#SBATCH --nodes={spec.nodes}",
             "#SBATCH --ntasks-per-node=1", f"#SBATCH --cpus-per-task={spec.cpus_per_node}",
             f"#SBATCH --time={spec.time}", f"#SBATCH --output={log}"]
    if spec.gpus_per_node:
        lines.append(f"#SBATCH --gpus-per-node={spec.gpus_per_node}")
    if spec.account:
        lines.append(f"#SBATCH --account={spec.account}")
    if spec.requeue:
        lines.append("#SBATCH --requeue")
    lines += [f"#SBATCH {x}" for x in spec.sbatch_extra]
    return lines


def ray_start(spec: ClusterSpec, head: bool) -> str:
    """The ``ray start`` command line run by srun on one node (blocking, so srun holds it)."""
    common = (f"--num-cpus={spec.cpus_per_node} --num-gpus={spec.gpus_per_node} "
              f"--object-manager-port={spec.object_manager_port} "
              f"--node-manager-port={spec.node_manager_port} "
              f"--min-worker-port={spec.min_worker_port} "
              f"--max-worker-port={spec.max_worker_port} --temp-dir={spec.temp_dir} --block")
    if head:
        return (f'ray start --head --node-ip-address="$head_ip" --port={spec.port} '
                f"--dashboard-port={spec.dashboard_port} {common}")
    return f'ray start --address="$head_ip:{spec.port}" {common}'


def batch_script(spec: ClusterSpec, name: str, start_args: list[str], log: str,
                 root: str = "searches") -> str:
    """The whole batch script: allocation, Ray head + workers, then start-or-resume the search
    whose state lives in ``root``/``name`` (relative to ``spec.workdir``)."""
    start = shlex.join(["magvox", "search", "start", "--name", name, "--root", root,
                        *start_args])
    resume = shlex.join(["magvox", "search", "resume", name, "--root", root])
    body = [
        "set -euo pipefail",
        spec.setup.strip(),
        f"cd {shlex.quote(spec.workdir)}",
        'nodes=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))',
        'head="${nodes[0]}"',
        'head_ip=$(srun --nodes=1 --ntasks=1 -w "$head" hostname --ip-address'
        " | awk '{print $1}')",
        f'srun --nodes=1 --ntasks=1 -w "$head" {ray_start(spec, head=True)} &',
        "sleep 20",
        'for node in "${nodes[@]:1}"; do',
        f'  srun --nodes=1 --ntasks=1 -w "$node" {ray_start(spec, head=False)} &',
        "  sleep 5",
        "done",
        f'address="$head_ip:{spec.port}"',
        f"if [ -f {shlex.quote(f'{root}/{name}/search.json')} ]; then",
        f'  {resume} --address "$address"',
        "else",
        f'  {start} --address "$address"',
        "fi",
    ]
    return "\n".join(sbatch_header(spec, log) + [line for line in body if line]) + "\n"


def submit_search(cluster_yaml: str, opts: Any, dry_run: bool = False) -> Path:
    """Write ``searches/<name>/slurm.sbatch`` for this search and submit it with sbatch."""
    from search.service import new_record
    from search.state import searches_root

    spec = load_cluster(cluster_yaml)
    root = searches_root(opts.root)
    record = new_record(opts, root)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in asdict(opts).items()
            if v is not None and k not in ("name", "address", "root", "overrides")]
    args += [f"--set={k}={json.dumps(v)}" for k, v in (opts.overrides or {}).items()]
    folder = root / record.name
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "slurm.sbatch"
    log = str(folder / "slurm-%j.out")
    script.write_text(batch_script(spec, record.name, args, log, root=str(root)))
    if not dry_run:
        if shutil.which("sbatch") is None:
            raise RuntimeError(f"sbatch not found: submit {script} on the cluster's login node")
        subprocess.run(["sbatch", str(script)], check=True)
    return script
