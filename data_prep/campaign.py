"""A DFT campaign: many runs of decorated prototypes on Ray, resumable, one core per run.

Finished runs (any status) are skipped; interrupted ones are redone; each result is published
atomically by ``data_prep.runs.run_one``. Progress lines go to ``progress`` as runs finish.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from data_prep.ray_local import connect
from data_prep.runs import RunSpec, read_record, record_failure, run_one

WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def pending(specs: list[RunSpec], root: Path, *, retry_failed: bool = False) -> list[RunSpec]:
    """The specs without a finished record (or with a failed one, if ``retry_failed``)."""
    todo = []
    for spec in specs:
        rec = read_record(Path(root) / spec.relpath)
        if rec is None or (retry_failed and rec.get("status") != "ok"):
            todo.append(spec)
    return todo


def _summary(rec: dict) -> str:
    if rec.get("status") != "ok":
        return f"{rec.get('status')}: {rec.get('reason')}"
    return (f"E={rec['energy_eV']:.4f} eV  M={rec['moment_uB']:.3f} uB  "
            f"({rec['elapsed_s']:.0f} s, {rec.get('scf_iterations', '?')} SCF)")  # fmt: skip


def run_campaign(
    specs: list[RunSpec],
    root: Path,
    params: dict,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    retry_failed: bool = False,
    progress: Callable[[str], None] = print,
) -> list[dict]:
    """Run every pending spec through Ray; return the records of the runs done now.

    Args:
        specs: the runs wanted; those already finished under ``root`` are skipped.
        root: campaign folder (``<root>/<composite>/<configuration>/``).
        params: GPAW parameters (``GpawParameters`` fields) recorded with each run.
        address: an existing Ray cluster; None starts a local one with ``num_cpus`` CPUs.
        retry_failed: also redo runs recorded as failed or unconverged.
    """
    import ray

    todo = pending(specs, root, retry_failed=retry_failed)
    progress(f"{len(specs)} runs wanted, {len(specs) - len(todo)} finished, {len(todo)} to do")
    if not todo:
        return []
    env = {**WORKER_ENV, "GPAW_SETUP_PATH": os.environ.get("GPAW_SETUP_PATH",
                                                           "/usr/share/gpaw-setups")}  # fmt: skip
    connect(address, num_cpus=num_cpus, env_vars=env)
    task = ray.remote(num_cpus=1, max_retries=0)(run_one)
    futures = {task.remote(s, Path(root).resolve(), params, force=retry_failed): s for s in todo}
    records, start = [], time.time()
    while futures:
        done, _ = ray.wait(list(futures), num_returns=1)
        spec = futures.pop(done[0])
        try:
            rec = ray.get(done[0])
        except Exception as exc:  # a worker that died (segfault, OOM) is a failed run
            rec = record_failure(spec, root, f"worker died: {type(exc).__name__}: {exc}")
        records.append(rec)
        n = len(records)
        eta = (time.time() - start) / n * len(futures)
        progress(f"[{n}/{len(todo)}] {spec.relpath}  {_summary(rec)}  (eta {eta / 60:.0f} min)")
    return records
