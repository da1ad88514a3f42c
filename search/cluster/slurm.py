"""Submitting a search to Slurm and asking Slurm about it (run on the login node).

``submit`` (``magvox search start --slurm``) and ``resubmit`` (``magvox search resume NAME
--slurm``) write ``<search>/slurm.sbatch`` (``search.cluster.batch``), check the request against
Slurm
(``check_with_slurm``: the partition exists and has the nodes, CPUs and GPUs asked for, then
``sbatch --test-only``) and submit it. The job ids go to ``<search>/slurm.json``, which only
these login-node commands write (the driver writes search.json; it notes its own job id there)::

    {"start_args": [...], "cluster": "/abs/cluster.yaml",
     "jobs": [{"job_id": "12", "submitted": "2026-11-25T14:00:00.123+00:00"}, ...]}
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from search.cluster.batch import batch_script
from search.cluster.spec import ClusterError, ClusterSpec, check_dashboard, load_cluster, parse_time
from search.tune.state import SearchPaths, check_name, searches_root

ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING",
          "SUSPENDED", "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT"}


def _slurm(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def partition_limits(partition: str) -> dict[str, Any] | None:
    """Nodes, largest CPUs and GPUs per node, and time limit (s, None = infinite) of a
    partition per ``sinfo``; None if Slurm does not know the partition. OSError if ``sinfo``
    cannot reach Slurm."""
    done = _slurm("sinfo", "-h", "-p", partition, "-o", "%D|%c|%G|%l")
    if done.returncode != 0:
        raise OSError(f"sinfo: {done.stderr.strip() or f'exit code {done.returncode}'}")
    rows = [line.split("|") for line in done.stdout.splitlines() if line.count("|") == 3]
    if not rows:
        return None
    gpus = [sum(int(n) for n in re.findall(r"gpu(?::[\w.-]+)*?:(\d+)", g)) for _, _, g, _ in rows]
    limit = rows[0][3].strip()
    return {"nodes": sum(int(r[0]) for r in rows),
            "cpus": max(int(r[1].rstrip("+")) for r in rows), "gpus": max(gpus),
            "time_s": None if limit in ("infinite", "UNLIMITED") else parse_time(limit)}


def partitions() -> list[str]:
    """Every partition Slurm knows (``sinfo -h -o %R``)."""
    return sorted(set(_slurm("sinfo", "-h", "-o", "%R").stdout.split()))


def check_with_slurm(spec: ClusterSpec, path: str | Path, script: Path | None = None,
                     required: bool = True) -> None:
    """What Slurm can tell before submitting: the partition, the resources its nodes have, then
    (given the script) ``sbatch --test-only``. Where Slurm cannot be asked (no ``sinfo``, or it
    fails) that is an error if ``required``, else the checks are skipped (a dry run)."""
    try:
        if shutil.which("sinfo") is None:
            raise OSError("sinfo not found: submit on the cluster's login node")
        limits = partition_limits(spec.partition)
    except OSError as exc:
        if required:
            raise ClusterError(f"{path}: cannot ask Slurm: {exc}") from exc
        return
    if limits is None:
        raise ClusterError(f"{path}: slurm.partition: Slurm has no partition {spec.partition!r} "
                           f"(it has: {', '.join(partitions()) or 'none'})")
    for key, have, what in (("nodes", limits["nodes"], "nodes"),
                            ("cpus_per_node", limits["cpus"], "CPUs per node"),
                            ("gpus_per_node", limits["gpus"], "GPUs per node")):
        if getattr(spec, key) > have:
            raise ClusterError(f"{path}: slurm.{key}: {getattr(spec, key)} asked for, partition "
                               f"{spec.partition!r} has at most {have} {what}")
    if limits["time_s"] is not None and spec.time_s > limits["time_s"]:
        raise ClusterError(f"{path}: slurm.time: {spec.time} is more than partition "
                           f"{spec.partition!r} allows ({limits['time_s']} s)")
    if script is not None:
        done = _slurm("sbatch", "--test-only", str(script))
        if done.returncode != 0:
            raise ClusterError(f"{path}: Slurm refuses the job: {done.stderr.strip()}")


def _write_token(folder: Path) -> Path:
    """The search's Ray token (0600, on the shared folder so every node reads the same)."""
    token = folder / "ray_token"
    if not token.is_file():
        token.touch(mode=0o600)
        token.write_text(secrets.token_hex(32))
    return token


def _submit(spec: ClusterSpec, cluster_yaml: str, paths: SearchPaths, start_args: list[str],
            dry_run: bool) -> tuple[Path, str | None]:
    check_dashboard(spec, cluster_yaml)  # before anything is written
    paths.folder.mkdir(parents=True, exist_ok=True)
    script = paths.folder / "slurm.sbatch"
    script.write_text(batch_script(spec, paths.name, start_args,
                                   str(paths.folder / "slurm-%j.out"), root=str(paths.root),
                                   token=str(_write_token(paths.folder))))
    check_with_slurm(spec, cluster_yaml, script, required=not dry_run)
    info = load_jobs(paths)
    info.update(start_args=start_args, cluster=str(Path(cluster_yaml).resolve()))
    if dry_run:
        _save_jobs(paths, info)
        return script, None
    done = _slurm("sbatch", "--parsable", str(script))
    if done.returncode != 0:
        raise ClusterError(f"sbatch {script}: {done.stderr.strip()}")
    job_id = done.stdout.strip().split(";")[0]
    info["jobs"].append({"job_id": job_id,
                         "submitted": datetime.now(UTC).isoformat(timespec="milliseconds")})
    _save_jobs(paths, info)
    return script, job_id


def submit(cluster_yaml: str, opts: Any, dry_run: bool = False) -> tuple[Path, str | None]:
    """``magvox search start --slurm``: check everything, write the script, submit it (unless
    ``dry_run``); returns the script and the job id."""
    from search.tune.service import new_record

    spec = load_cluster(cluster_yaml)
    root = searches_root(opts.root)
    record = new_record(opts, root)
    paths = SearchPaths(root, record.name)
    if paths.exists() or latest_job(paths):
        raise ClusterError(f"search {record.name!r} exists in {paths.folder}: "
                           f"`magvox search resume {record.name} --slurm {cluster_yaml}`")
    args = [f"--{k.replace('_', '-')}={v}" for k, v in asdict(opts).items()
            if v is not None and k not in ("name", "address", "root", "overrides", "explain")]
    args += [f"--set={k}={json.dumps(v)}" for k, v in (opts.overrides or {}).items()]
    return _submit(spec, cluster_yaml, paths, args, dry_run)


def resubmit(name: str, cluster_yaml: str, root: str | None = None,
             dry_run: bool = False, extend: int | None = None) -> tuple[Path, str | None]:
    """``magvox search resume NAME --slurm``: submit the search again (it resumes); refused while
    an earlier job of it is still queued or running. ``extend``: ``magvox search extend NAME
    --trials N --slurm``: the finished search gets a round of N trials (``service.add_round``,
    after every check and not in a dry run) that the job runs."""
    spec = load_cluster(cluster_yaml)
    paths = SearchPaths(searches_root(root), check_name(name))
    info = load_jobs(paths)
    if not paths.exists() and not info["jobs"]:
        raise ClusterError(f"no search {name!r} under {paths.root} to resume")
    finished = paths.exists() and json.loads(paths.record.read_text()).get("status") == "finished"
    if finished and extend is None:
        raise ClusterError(f"search {name!r} is finished: nothing to resume "
                           f"(`magvox search best {name}`; more trials: `magvox search extend`)")
    last = latest_job(paths)
    state = job_state(last) if last else None
    if state in ACTIVE:
        raise ClusterError(f"search {name!r}: Slurm job {last} is {state}; "
                           f"`scancel {last}` first or wait for it")
    check_dashboard(spec, cluster_yaml)
    check_with_slurm(spec, cluster_yaml, required=not dry_run)
    if extend is not None and not dry_run:
        from search.tune.service import add_round

        add_round(name, extend, root)
    return _submit(spec, cluster_yaml, paths, info.get("start_args", []), dry_run)


def load_jobs(paths: SearchPaths) -> dict[str, Any]:
    """``slurm.json`` of a search ({"jobs": []} when it was never submitted)."""
    file = paths.folder / "slurm.json"
    return json.loads(file.read_text()) if file.is_file() else {"jobs": []}


def _save_jobs(paths: SearchPaths, info: dict[str, Any]) -> None:
    tmp = paths.folder / "slurm.json.tmp"
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(paths.folder / "slurm.json")


def latest_job(paths: SearchPaths) -> str | None:
    """The id of the search's last submitted job, if any."""
    jobs = load_jobs(paths)["jobs"]
    return jobs[-1]["job_id"] if jobs else None


def job_state(job_id: str) -> str:
    """Slurm's state of a job (``squeue``, else ``scontrol show job``), or ``unknown to Slurm``
    once the controller has forgotten it (there is no accounting database to ask)."""
    if shutil.which("squeue") is None:
        return "unknown (no squeue here)"
    state = _slurm("squeue", "-h", "-j", job_id, "-o", "%T").stdout.strip()
    if state:
        return state
    m = re.search(r"JobState=(\S+)", _slurm("scontrol", "show", "job", job_id).stdout)
    return m.group(1) if m else "unknown to Slurm (finished long ago?)"
