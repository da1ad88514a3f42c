"""What ``magvox search start|resume|extend --slurm`` and the Slurm lines of ``status`` print.

A bad cluster.yaml or a request Slurm refuses is one line on stderr and exit code 2, before
anything is submitted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from search.cluster import slurm
from search.cluster.spec import ClusterError
from search.tune.state import SearchPaths, searches_root


def _report(script: Path, job_id: str | None, name: str, root: str | None) -> int:
    where = f" --root {root}" if root else ""
    if job_id is None:
        print(f"batch script: {script} (not submitted: --dry-run)")
        return 0
    print(f"search {name}: submitted as Slurm job {job_id} ({script})")
    print(f"follow: magvox search status {name}{where}; log: {script.parent}/slurm-{job_id}.out")
    return 0


def _fail(exc: Exception) -> int:
    print(f"magvox search: error: {exc}", file=sys.stderr)
    return 2


def submit(args: argparse.Namespace, opts: Any) -> int:
    """``magvox search start --slurm CLUSTER_YAML``."""
    try:
        script, job_id = slurm.submit(args.slurm, opts, dry_run=args.dry_run)
    except (ClusterError, FileNotFoundError, ValueError) as exc:
        return _fail(exc)
    return _report(script, job_id, script.parent.name, args.root)


def resubmit(args: argparse.Namespace, extend: int | None = None) -> int:
    """``magvox search resume NAME --slurm CLUSTER_YAML`` (``extend``: ``magvox search extend
    NAME --trials N --slurm CLUSTER_YAML``)."""
    try:
        script, job_id = slurm.resubmit(args.name, args.slurm, args.root, args.dry_run, extend)
    except (ClusterError, ValueError) as exc:
        return _fail(exc)
    return _report(script, job_id, args.name, args.root)


def job_info(name: str, root: str | None) -> dict[str, Any]:
    """The search's last Slurm job and its state ({} if never submitted); ``status`` is
    ``submitted`` while the job has not yet started the driver (no search record)."""
    paths = SearchPaths(searches_root(root), name)
    job_id = slurm.latest_job(paths) if paths.folder.is_dir() else None
    if job_id is None:
        return {}
    info = {"slurm_job_id": job_id, "slurm_state": slurm.job_state(job_id),
            "slurm_log": str(paths.folder / f"slurm-{job_id}.out")}
    if not paths.exists():
        info.update(name=name, status="submitted")
    return info


def job_line(job: dict[str, Any]) -> str:
    """One line: the job id, its Slurm state, its log."""
    return f"Slurm job {job['slurm_job_id']}: {job['slurm_state']} (log {job['slurm_log']})"


def print_submitted(job: dict[str, Any], as_json: bool) -> int:
    """``status`` of a search whose job has not started its driver yet."""
    if as_json:
        print(json.dumps(job, indent=2))
    else:
        print(f"search {job['name']}: submitted, the driver has not started yet")
        print(job_line(job))
    return 0
