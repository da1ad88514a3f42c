"""A DFT campaign: many runs of decorated prototypes on Ray, resumable, one core per run.

Finished runs (any status) are skipped; interrupted ones are redone; each result is published
atomically by ``data_prep.dft.runs.run_one``. A ``data_prep.dft.progress.LiveReporter`` shows a
line per
finished run and, while runs compute, their SCF state (polled from the workers' progress files)
beside the campaign's totals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from data_prep.dft.progress import LiveReporter, describe_totals, read_in_flight
from data_prep.dft.runs import RunSpec, record_failure, run_one
from data_prep.io.run_record import find_run_record, run_records
from data_prep.ray_local import connect

WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def pending(specs: list[RunSpec], root: Path, *, retry_failed: bool = False) -> list[RunSpec]:
    """The specs without a finished record (or with a failed one, if ``retry_failed``)."""
    todo = []
    for spec in specs:
        rec = find_run_record(Path(root) / spec.relpath)
        if rec is None or (retry_failed and rec.get("status") != "ok"):
            todo.append(spec)
    return todo


def check_geometry(specs: list[RunSpec], root: Path) -> None:
    """Refuse to add runs of one bond-length rule to a folder holding runs of another.

    A record without ``geometry`` was made by rule ``covalent`` (``data_prep.dft.bond_rules``).
    """
    found = {rec.get("geometry", "covalent") for rec in run_records(root)}
    wanted = {s.geometry for s in specs}
    if found and found != wanted:
        raise ValueError(f"{root} holds runs of geometry rule {', '.join(sorted(found))}; these "
                         f"would use {', '.join(sorted(wanted))}: pass --geometry "
                         f"{', '.join(sorted(found))} to extend it, or another --out")  # fmt: skip


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
    reporter: LiveReporter | None = None,
) -> list[dict]:
    """Run every pending spec through Ray; return the records of the runs done now.

    Args:
        specs: the runs wanted; those already finished under ``root`` are skipped.
        root: campaign folder (``<root>/<composite>/<configuration>/``).
        params: GPAW parameters (``GpawParameters`` fields) recorded with each run.
        address: an existing Ray cluster; None starts a local one with ``num_cpus`` CPUs.
        retry_failed: also redo runs recorded as failed or unconverged.
        reporter: where progress goes (default: a LiveReporter on stdout).
    """
    import ray

    reporter = reporter or LiveReporter()
    todo = pending(specs, root, retry_failed=retry_failed)
    reporter.line(f"{len(specs)} runs wanted, {len(specs) - len(todo)} finished, {len(todo)} to do")
    if not todo:
        return []
    env = {**WORKER_ENV, "GPAW_SETUP_PATH": os.environ.get("GPAW_SETUP_PATH",
                                                           "/usr/share/gpaw-setups")}  # fmt: skip
    connect(address, num_cpus=num_cpus, env_vars=env)
    task = ray.remote(num_cpus=1, max_retries=0)(run_one)
    start = time.time()  # progress files older than this belong to earlier attempts
    futures = {task.remote(s, Path(root).resolve(), params, force=retry_failed): s for s in todo}
    records: list[dict] = []
    try:
        while futures:
            done, _ = ray.wait(list(futures), num_returns=1, timeout=reporter.refresh_s)
            if not done:
                _show_in_flight(reporter, root, futures.values(), records, len(todo), start)
                continue
            spec = futures.pop(done[0])
            try:
                rec = ray.get(done[0])
            except Exception as exc:  # a worker that died (segfault, OOM) is a failed run
                rec = record_failure(spec, root, f"worker died: {type(exc).__name__}: {exc}")
            records.append(rec)
            n = len(records)
            eta = (time.time() - start) / n * len(futures)
            eta_text = f"(eta {eta / 60:.0f} min)"
            reporter.line(f"[{n}/{len(todo)}] {spec.relpath}  {_summary(rec)}  {eta_text}")
    finally:  # also on Ctrl-C: no half-drawn status line left on the terminal
        reporter.close()
    return records


def _show_in_flight(reporter: LiveReporter, root: Path, running: Iterable[RunSpec],
                    records: list[dict], total: int, start: float) -> None:  # fmt: skip
    """Poll the workers' progress files and hand them to the reporter with the totals."""
    n = len(records)
    failed = sum(r.get("status") != "ok" for r in records)
    left = (time.time() - start) / n * (total - n) if n else None
    wanted = {str(s.relpath) for s in running}
    reporter.status(describe_totals(n, failed, total, left), read_in_flight(root, wanted, start))
