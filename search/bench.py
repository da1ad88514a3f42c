"""Measure the search service on this machine; append the figures to BENCHMARKS.md.

- Overhead per trial: a search of K identical trials, one at a time, against ``run_trial`` of the
  same configuration called directly in one process on the same in-memory data. The difference
  per trial is what Ray (scheduling, actor, reporting, checkpoints), MLflow (params, per-epoch
  metrics, artifacts) and data hand-over cost; one-time start-up (Ray, dataset read) is separate.
- Trials per hour of the default space (2 trials at a time on this machine's cores).
- TPE against random: best validation score after N trials, over several seeds.

All searches run in this one process on one private local Ray cluster.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from search import service
from search.space import load_space

BARE_CONFIG = {"depth": 1, "conv_filters": [2], "kernel_sizes": [5], "strides": [2],
               "pool_sizes": [2], "lr": 0.1, "batch_size": 10, "padding": "valid"}


def _fixed_space(folder: Path, epochs: int, trials: int) -> tuple[Path, dict[str, Any]]:
    """The default space with every parameter fixed to BARE_CONFIG (identical trials)."""
    raw = load_space("default").to_dict()
    fixed = {**raw["fixed"], **{k: v for k, v in BARE_CONFIG.items() if k != "depth"},
             "epochs": epochs}
    raw.update(fixed=fixed, params={}, enqueue=[])
    raw["settings"].update(trials=trials, max_concurrent=1, grace_epochs=epochs)
    path = folder / "fixed.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path, fixed


def bare_trial_s(dataset: Any, fields: dict[str, Any], repeats: int) -> float:
    """Median wall time of ``run_trial`` called directly (1 torch thread, data in memory)."""
    import torch

    from search import bridge

    torch.set_num_threads(1)
    bridge.run(fields, dataset, lambda r: None)  # warm-up: imports, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        bridge.run(fields, dataset, lambda r: None)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def overhead(dataset_path: str, root: Path, trials: int = 6, epochs: int = 3) -> dict[str, float]:
    """Per-trial service overhead: search wall / K against the bare trial time."""
    from search.data import load_shared

    space, fixed = _fixed_space(root, epochs, trials)
    start = time.perf_counter()
    shared = load_shared(dataset_path)
    load_s = time.perf_counter() - start
    bare = bare_trial_s(shared, fixed, repeats=3)
    start = time.perf_counter()
    service.start(service.StartOptions(space=str(space), name="bench-overhead",
                                       dataset=dataset_path, root=str(root), sampler="random"))
    search_s = time.perf_counter() - start
    per_trial = search_s / trials
    return {"trials": trials, "epochs": epochs, "bare_s": bare, "search_s": search_s,
            "per_trial_s": per_trial, "overhead_s": per_trial - bare,
            "overhead_pct": 100 * (per_trial - bare) / bare, "dataset_load_s": load_s}


def trials_per_hour(dataset_path: str, root: Path, trials: int = 8) -> dict[str, float]:
    """The default space, ``trials`` trials, 2 at a time: wall time and trials per hour."""
    start = time.perf_counter()
    service.start(service.StartOptions(name="bench-default", dataset=dataset_path,
                                       root=str(root), trials=trials))
    wall = time.perf_counter() - start
    return {"trials": trials, "wall_s": wall, "per_hour": 3600 * trials / wall}


def best_after(root: Path, name: str) -> float:
    """Best final validation balanced accuracy of a finished search."""
    from search import report
    from search.state import SearchPaths, load_record

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


def markdown(ov: dict, tph: dict, cmp: dict, trials: int, dataset: str, target: str) -> str:
    """The BENCHMARKS.md section."""
    load = os.getloadavg()[0]
    lines = [
        f"### Search service ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {load:.1f} from other jobs; `magvox search bench`)",
        f"Dataset: `{dataset}`. One private local Ray cluster, SQLite MLflow store.",
        "",
        "| measure | value |", "|---|---|",
        f"| bare `run_trial` (default-space config, {ov['epochs']} epochs, 1 thread) | "
        f"{ov['bare_s']:.2f} s |",
        f"| same trial inside the search (wall / trial, {ov['trials']} trials, one at a time) | "
        f"{ov['per_trial_s']:.2f} s |",
        f"| service overhead per trial (Ray + MLflow + data hand-over) | "
        f"{ov['overhead_s']:.2f} s = **{ov['overhead_pct']:.0f}%** (goal < 10%) |",
        f"| one-time: dataset read into the object store | {ov['dataset_load_s']:.2f} s |",
        f"| default space: {tph['trials']} trials, 2 at a time | {tph['wall_s']:.0f} s wall = "
        f"**{tph['per_hour']:.0f} trials/hour** |",
        "",
        f"TPE vs random, best validation balanced accuracy after {trials} trials "
        f"(default space, target {target}, seeds "
        + ", ".join(str(s) for s in range(len(cmp["tpe"]))) + "):",
        "", "| sampler | per seed | mean |", "|---|---|---|",
    ]
    for sampler, values in cmp.items():
        cells = ", ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {sampler} | {cells} | {statistics.mean(values):.3f} |")
    return "\n".join(lines) + "\n"


def run_bench(dataset: str, out: Path, trials: int = 8, seeds: int = 3,
              target: str = "ground_state") -> str:
    """Run all measurements in a throw-away searches root; append the section to ``out``."""
    with tempfile.TemporaryDirectory(prefix="magvox-bench-") as tmp:
        root = Path(tmp)
        ov = overhead(dataset, root)
        tph = trials_per_hour(dataset, root, trials)
        cmp = tpe_vs_random(dataset, root, trials, list(range(seeds)), target)
    text = markdown(ov, tph, cmp, trials, dataset, target)
    with out.open("a") as fh:
        fh.write("\n" + text)
    return text
