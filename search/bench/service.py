"""``magvox bench service``: the search service's cost on this machine (the ``service`` record).

- Overhead per trial: a search of K identical trials, one at a time, against ``run_trial`` of the
  same configuration called directly in one process on the same in-memory data. The difference
  per trial is what Ray (scheduling, actor, reporting, checkpoints), MLflow (params, per-epoch
  metrics, artifacts) and data hand-over cost; one-time start-up (Ray, dataset read) is separate.
- Trials per hour of the default space (2 trials at a time on this machine's cores).
- TPE against random: best validation score after N trials, over several seeds.

All searches run in this one process on one private local Ray cluster.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from search.tune import service
from search.tune.defaults import BENCH_SEEDS, BENCH_TARGET, BENCH_TRIALS
from search.tune.space import load_space

SHORT = {"preset": "seed-base", "conv_filters": [2], "kernel_sizes": [5], "strides": [2],
         "pool_sizes": [2], "lr": 0.1, "batch_size": 10, "padding": "valid", "epochs": 3,
         "tiling": [1, 1, 1], "backend": "auto", "momentum": 0.9, "folds": 0}
CONFIGS = {  # label -> (TrialConfig fields of the identical trials, trials in the search)
    "short trial (1 conv 2x5^3 stride 2, pool 2; 3 epochs, one split)": (SHORT, 12),
    "default-space preset (periodic-fast; 12 epochs, 3 folds, cosine)": ({
        "preset": "periodic-fast", "epochs": 12, "folds": 3, "lr_schedule": "cosine"}, 4),
    "seed-small trial (3x5^3, pool 2, 5x3^3, pool 2, dense 12; 5 epochs, one split)": ({
        "preset": "seed-small", "epochs": 5, "tiling": [1, 1, 1], "backend": "auto",
        "folds": 0}, 4),
    "Table 2 base model (3x40^3 FFT on the 2x2-tiled input, pool 2; 2 epochs, one split)": ({
        "preset": "seed-base", "epochs": 2, "lr": 0.1, "backend": "fft", "folds": 0}, 4),
}


IN_TRIAL = ("Service cost = median over trials of (the interval ending with the trial) minus "
            "(the trial's own time inside `run_trial`, less its epochs' hand-over to Tune, in "
            "its own process; run_trial in the search is its median): what Ray, Tune, the "
            "reports, checkpoints, artifact files and MLflow add to a trial. The overhead "
            "against bare also holds the difference in compute speed between the bench's "
            "process and the trial's, which on this shared 2-core VM varies by +-10% from run "
            "to run.")


def fixed_space(folder: Path, fields: dict[str, Any], target: str, trials: int) -> Path:
    """A space whose every trial is ``fields`` (no sampled parameter), one trial at a time."""
    raw = load_space("default").to_dict()
    raw.update(fixed={**fields, "target": target}, params={}, enqueue=[])
    raw["settings"].update(trials=trials, max_concurrent=1, grace_epochs=fields["epochs"])
    path = folder / f"fixed-{abs(hash(str(fields)))}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def bare_trial_s(dataset: Any, fields: dict[str, Any], repeats: int) -> float:
    """Median wall time of ``run_trial`` called directly (1 torch thread, data in memory)."""
    import torch

    from models.train import run_trial

    torch.set_num_threads(1)
    run_trial({**fields, "epochs": 1}, dataset, device="cpu")  # warm-up: imports, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_trial(fields, dataset, device="cpu")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def trial_times(root: Path, name: str) -> list[tuple[float, float, float, float]]:
    """(start, end, trial_wall_s, compute_s) in s of the search's completed trial runs, in order
    of start: the MLflow run's start and end (driver clock), the trainable's own wall time (its
    start to its final report) and the time inside ``run_trial`` less the epochs' hand-over to
    Tune (the trial's compute, as the trial's process ran it)."""
    from search.tracking import report
    from search.tune.state import SearchPaths, load_record

    nan = float("nan")
    runs = report.trial_runs(load_record(SearchPaths(root, name)))
    return sorted((r.info.start_time / 1000, r.info.end_time / 1000,
                   float(r.data.metrics.get("trial_wall_s", nan)),
                   float(r.data.metrics.get("compute_s", nan))) for r in runs
                  if r.data.tags.get("magvox.status") == "completed")


def steady_state(times: list[tuple[float, float, float, float]],
                 bare: float) -> dict[str, float]:
    """Per-trial figures from ``trial_times``: the median interval between successive trial
    ends; the overhead against ``bare`` (``run_trial`` in the bench's own process, at another
    moment: it also holds any difference in compute speed between the two processes); the
    service cost = the median over trials of the interval that ends with a trial minus that
    trial's own compute (``run_trial`` as its process ran it); and the median idle gap
    between one trial's end and the next one's start (scheduling alone)."""
    ends = [t[1] for t in times]
    per_trial = statistics.median(b - a for a, b in itertools.pairwise(ends))
    gap = statistics.median(b[0] - a[1] for a, b in itertools.pairwise(times))
    compute = statistics.median(t[3] for t in times)
    # paired per trial: the interval that ends with trial i less trial i's own compute
    service = statistics.median(b[1] - a[1] - b[3] for a, b in itertools.pairwise(times))
    return {"bare_s": bare, "per_trial_s": per_trial, "overhead_s": per_trial - bare,
            "overhead_pct": 100 * (per_trial - bare) / bare, "gap_s": gap,
            "compute_s": compute, "service_s": service, "service_pct": 100 * service / compute}


def overhead(dataset_path: str, root: Path, fields: dict[str, Any], target: str,
             trials: int = 5) -> dict[str, float]:
    """Per-trial service overhead in steady state: the median interval between successive trial
    ends (trials one at a time, identical) against ``run_trial`` called directly."""
    from search.tune.data import load_shared

    start = time.perf_counter()
    shared = load_shared(dataset_path)
    load_s = time.perf_counter() - start
    bare = bare_trial_s(shared, {**fields, "target": target}, repeats=min(3, trials))
    name = f"bench-overhead-{len(list(root.glob('bench-overhead-*')))}"
    start = time.perf_counter()
    service.start(service.StartOptions(space=str(fixed_space(root, fields, target, trials)),
                                       name=name, dataset=dataset_path, root=str(root)))
    search_s = time.perf_counter() - start
    out = steady_state(trial_times(root, name), bare)
    return {"trials": trials, **out, "startup_s": search_s - out["per_trial_s"] * (trials - 1),
            "dataset_load_s": load_s}


def trials_per_hour(dataset_path: str, root: Path, trials: int = BENCH_TRIALS) -> dict[str, float]:
    """The default space, ``trials`` trials, 2 at a time: wall time and trials per hour."""
    start = time.perf_counter()
    service.start(service.StartOptions(name="bench-default", dataset=dataset_path,
                                       root=str(root), trials=trials))
    wall = time.perf_counter() - start
    return {"trials": trials, "wall_s": wall, "per_hour": 3600 * trials / wall}


def best_after(root: Path, name: str) -> float:
    """Best final validation balanced accuracy of a finished search."""
    from search.tracking import report
    from search.tune.state import SearchPaths, load_record

    run = report.best_run(load_record(SearchPaths(root, name)))
    return float("nan") if run is None else run.data.metrics["val_balanced_accuracy"]


def tpe_vs_random(dataset_path: str, root: Path, trials: int, seeds: list[int],
                  target: str) -> dict:
    """Best validation balanced accuracy after ``trials`` trials per sampler and seed."""
    raw = load_space("default").to_dict()
    raw["fixed"]["target"] = target
    space = root / "compare.yaml"
    space.write_text(yaml.safe_dump(raw))
    out: dict[str, list[float]] = {"random": [], "tpe": []}
    for seed in seeds:
        for sampler in out:
            name = f"bench-{sampler}-{seed}"
            service.start(service.StartOptions(
                space=str(space), name=name, dataset=dataset_path, root=str(root),
                trials=trials, sampler=sampler, seed=seed))
            out[sampler].append(best_after(root, name))
    return out


def measure_service(dataset: str, trials: int = BENCH_TRIALS, seeds: int = BENCH_SEEDS,
                    target: str = BENCH_TARGET, overhead_only: bool = False) -> dict[str, Any]:
    """Run all measurements in a throw-away searches root -> the ``service`` record's figures:
    ``rows`` (bench configuration label -> ``overhead``), ``trials_per_hour`` and
    ``tpe_vs_random`` (None with ``overhead_only``)."""
    with tempfile.TemporaryDirectory(prefix="magvox-bench-") as tmp:
        root = Path(tmp)
        ovs = {label: overhead(dataset, root, fields, target, n)
               for label, (fields, n) in CONFIGS.items()}
        tph = cmp = None
        if not overhead_only:
            tph = trials_per_hour(dataset, root, trials)
            cmp = tpe_vs_random(dataset, root, trials, list(range(seeds)), target)
    return {"dataset": dataset, "target": target, "rows": ovs, "trials_per_hour": tph,
            "tpe_vs_random": cmp, "trials": trials}
