"""``magvox prep`` as a library: sources -> the shared Zarr dataset, in parallel on Ray.

Idempotent: a source whose file (path, size, mtime) or content hash (SHA-256 of the decompressed
volumetric file) is already in the store is skipped without parsing. Kill -9 safe: samples appear
by an atomic rename, tables are rebuilt from sample attrs. Bad inputs go to ``<out>/rejected.csv``.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from data_prep import DEFAULT_MAGNETIZATION, DEFAULT_PATTERN
from data_prep.dataset.discover import Source, discover
from data_prep.dataset.regrid import TRAIN_GRID
from data_prep.dataset.sample import PrepOptions, process_source
from data_prep.dataset.store import (
    create_store,
    rebuild_tables,
    remove_sample,
    resolve_source,
    sample_rows,
)
from data_prep.io.run_record import RUN_JSON

EXIT_REJECTED = 3


@dataclass
class PrepReport:
    """What a prep run did. rejected: (path, reason) pairs; replaced: ids of samples removed
    because their source file was re-run with other content; elapsed_s: wall time, s."""

    out: Path
    found: int = 0
    added: list[str] = field(default_factory=list)
    existing: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    samples: int = 0
    composites: int = 0
    elapsed_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """0, or 3 when anything was rejected."""
        return EXIT_REJECTED if self.rejected else 0

    def summary(self) -> str:
        """One paragraph for the terminal."""
        lines = [f"prep: {self.found} sources, {len(self.added)} added, {self.existing} already "
                 f"present, {len(self.rejected)} rejected, {len(self.replaced)} replaced by "
                 f"a re-run in {self.elapsed_s:.1f} s",
                 f"store {self.out}: {self.samples} samples, {self.composites} composites"]
        if self.rejected:
            lines.append(f"rejected (see {self.out / 'rejected.csv'}):")
            lines += [f"  {path}: {reason}" for path, reason in self.rejected[:20]]
        return "\n".join(lines)


def _known(out: Path) -> tuple[set[str], set[tuple[str, int, int]]]:
    """Content hashes and (path, size, mtime_ns) stamps of the samples already stored."""
    rows = sample_rows(out)
    hashes = {r["sha256"] for r in rows}
    stamps = {(resolve_source(out, r["source"]), r.get("source_size", -1),
               r.get("source_mtime_ns", -1)) for r in rows}
    return hashes, stamps


def _stamp(src: Source) -> tuple[str, int, int] | None:
    if src.volumetric is None:
        return None
    st = os.stat(src.volumetric)
    return (str(Path(src.volumetric).resolve()), st.st_size, st.st_mtime_ns)


def _run_serial(todo: list[Source], out: Path, hashes: set[str], opts: PrepOptions,
                progress: bool) -> list[dict]:
    results = []
    for k, src in enumerate(todo, 1):
        results.append(process_source(src, str(out), hashes, opts))
        if results[-1]["status"] == "added":
            hashes.add(results[-1]["sha256"])
        _progress(progress, k, len(todo), results)
    return results


def _run_ray(todo: list[Source], out: Path, hashes: set[str], opts: PrepOptions,
             progress: bool, workers: int, address: str | None) -> list[dict]:
    import ray

    from data_prep.ray_local import connect

    started = connect(address, num_cpus=workers)
    try:
        task = ray.remote(num_cpus=1)(process_source)
        hashes_ref = ray.put(hashes)
        pending = [task.remote(src, str(out), hashes_ref, opts) for src in todo]
        results: list[dict] = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done))
            _progress(progress, len(results), len(todo), results)
        return results
    finally:
        if started:
            ray.shutdown()


def _progress(enabled: bool, k: int, n: int, results: list[dict]) -> None:
    if enabled:
        last = results[-1]
        print(f"[{k}/{n}] {last['status']:8s} {last['path']}", file=sys.stderr, flush=True)


def find_sources(sources: list[str | Path], pattern: str = DEFAULT_PATTERN) -> list[Source]:
    """Every source under ``sources`` (``discover``), sorted by path; FileNotFoundError naming
    a source that does not exist, ValueError naming one under which no run is found (a typo
    in a path must not pass as an empty dataset)."""
    found: dict[str, Source] = {}
    for src in sources:
        if not Path(src).exists():
            raise FileNotFoundError(f"{src}: no such file or folder")
        runs = discover([src], pattern)
        if not runs:
            raise ValueError(f"{src}: no DFT run found in it (VASP run folders with CHGCAR, "
                             f"{RUN_JSON} of magvox runs, or volumetric files)")
        found.update((run.path, run) for run in runs)
    return sorted(found.values(), key=lambda s: s.path)


def prepare_dataset(
    sources: list[str | Path],
    out: str | Path,
    *,
    pattern: str = DEFAULT_PATTERN,
    magnetization: str = DEFAULT_MAGNETIZATION,
    train_grid: tuple[int, int, int] = TRAIN_GRID,
    store_total: bool = False,
    store_train: bool = True,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
) -> PrepReport:
    """Prepare (or extend) the dataset ``out`` from files and folders ``sources``.

    workers: Ray worker CPUs (default: all cores); 0 runs in this process without Ray.
    address: an existing Ray cluster (default: start a private local one).
    Returns a PrepReport; rejected inputs are also written to ``out/rejected.csv``.
    A source that does not exist or holds no run raises before the store is created.
    """
    start = time.perf_counter()
    found = find_sources(sources, pattern)
    out = create_store(out, tuple(train_grid))
    report = PrepReport(out=out)
    report.found = len(found)
    hashes, stamps = _known(out)
    stored = {str(Path(resolve_source(out, r["source"])).parent) for r in sample_rows(out)
              if r.get("source")}
    todo = [s for s in found if (_stamp(s) not in stamps or s.kind == "magvox")
            and not _stored_without_source(s, stored)]
    report.existing = len(found) - len(todo)
    opts = PrepOptions(magnetization=magnetization, train_grid=tuple(train_grid),
                       store_total=store_total, store_train=store_train)
    workers = (os.cpu_count() or 1) if workers is None else workers
    if not todo:
        results: list[dict] = []
    elif workers == 0 or (len(todo) == 1 and address is None):
        results = _run_serial(todo, out, hashes, opts, progress)
    else:
        results = _run_ray(todo, out, hashes, opts, progress, workers, address)
    _collect(report, results)
    report.replaced = _drop_superseded(out)
    index, labels = rebuild_tables(out)
    report.samples, report.composites = len(index), len(labels)
    _write_rejected(out, report.rejected)
    report.elapsed_s = time.perf_counter() - start
    return report


def _stored_without_source(src: Source, stored_runs: set[str]) -> bool:
    """A run folder whose CHGCAR is gone (a fresh clone keeps records, not densities) but whose
    sample the store already holds: kept as it is, not rejected."""
    return src.volumetric is None and str(Path(src.path).resolve()) in stored_runs


def _drop_superseded(out: Path) -> list[str]:
    """Remove stored samples whose source file now holds other content (a run redone over an
    earlier one) when the store has a sample of the file as it is now. Samples whose source is
    gone are kept (a store outlives its sources). Returns the removed sample ids."""
    by_source: dict[str, list[dict]] = {}
    for row in sample_rows(out):
        by_source.setdefault(resolve_source(out, row["source"]), []).append(row)
    stale = []
    for source, rows in by_source.items():
        if len(rows) < 2 or not os.path.exists(source):
            continue
        st = os.stat(source)
        current = [r for r in rows
                   if (r.get("source_size"), r.get("source_mtime_ns")) == (st.st_size,
                                                                          st.st_mtime_ns)]
        if current:
            stale += [r["sample_id"] for r in rows if r not in current]
    for sample_id in stale:
        remove_sample(out, sample_id)
    return sorted(stale)


def _collect(report: PrepReport, results: list[dict]) -> None:
    for r in sorted(results, key=lambda r: r["path"]):
        if r["status"] == "added":
            report.added.append(r["sample_id"])
        elif r["status"] == "exists":
            report.existing += 1
        else:
            report.rejected.append((r["path"], r["reason"]))


def _write_rejected(out: Path, rejected: list[tuple[str, str]]) -> None:
    target = out / "rejected.csv"
    tmp = target.with_name(".rejected.csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "reason"])
        writer.writerows(rejected)
    os.replace(tmp, target)
