"""Timings of the networks on this machine: the figures of ``magvox bench base`` and
``magvox bench learner`` (``search.bench`` writes them as records and renders BENCHMARKS.md).

``measure_base``: (1) the first conv layer of seed-base, forward+backward per sample, FFT vs
torch.nn.Conv3d (oneDNN) and their ratio; (2) one seed-base epoch over 62 samples (43 train,
19 validation) with the FFT backend, in a fresh subprocess whose peak RSS is (3), at batch 20.
Without a dataset, the epoch runs on synthetic densities of the real shape (timing only).
``measure_learner``: the default learner (``models.bench_learner``).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from data_prep import TRAIN_GRID
from models import CPU_THREADS

# the bench's dataset size: the original work's 62 composites (its one-epoch figures)
BENCH_SAMPLES = 62


class SyntheticDataset:
    """``n`` composites with alternating labels on the training grid, for timing at the real size.

    Densities: the FM densities of ``source`` (a dataset path), cycled, when given; else random.
    """

    def __init__(self, n: int = BENCH_SAMPLES, grid: tuple[int, int, int] = TRAIN_GRID,
                 seed: int = 0,
                 source: str | None = None):
        self.grid, self.rng = grid, np.random.default_rng(seed)
        self.real: list[np.ndarray] = []
        if source:
            from data_prep.dataset.store import open_dataset

            ds = open_dataset(source)
            fm = ds.index[ds.index["configuration"] == "FM"]["sample_id"]
            self.real = [ds.spin(s) for s in fm]
        comps = [f"Cr{el}Ge2Te6" for el in _element_names(n)]
        a = 6.83  # the Cr2Ge2Te6 cell of the bundled set, A
        self.index = pd.DataFrame({"sample_id": [f"{c}_FM" for c in comps], "composite": comps,
                                   "configuration": "FM", "volume_A3": a * a * 0.866 * 20.0,
                                   "lattice_A": [[a, 0, 0, -a / 2, a * 0.866, 0, 0, 0, 20.0]] * n})
        self.labels = pd.DataFrame({"composite": comps, "ground_state": np.arange(n) % 2,
                                    "moment_uB": 6.0, "exchange_energy_eV": 0.1})

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """m (Nx, Ny, Nz) float32, uB/A^3: a real density (cycled) or random."""
        if self.real:
            i = int(self.index.index[self.index["sample_id"] == sample_id][0])
            return self.real[i % len(self.real)]
        return (0.05 * self.rng.standard_normal(self.grid)).astype(np.float32)


SYMBOLS = ("H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga "
           "Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd "
           "Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au").split()


def _element_names(n: int) -> list[str]:
    """n distinct element symbols for A2 (composite names must parse; no pymatgen import)."""
    return SYMBOLS[:n]


def _fwd_bwd(forward, repeats: int) -> tuple[float, float, float]:
    """Best (forward s, backward s, forward+backward CPU s) over ``repeats`` runs."""
    best = (float("inf"), float("inf"), float("inf"))
    for _ in range(repeats):
        cpu0, t0 = _cpu_s(), time.perf_counter()
        y = forward()
        t1 = time.perf_counter()
        y.sum().backward()
        t2 = time.perf_counter()
        run = (t1 - t0, t2 - t1, _cpu_s() - cpu0)
        best = run if sum(run[:2]) < sum(best[:2]) else best
    return best


def first_layer(direct_repeats: int = 1, fft_repeats: int = 3) -> dict[str, Any]:
    """seed-base first conv, one sample (1, 2, 120^3) -> (1, 3, 81^3): forward, backward (s)."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, *TRAIN_GRID)
    ref = torch.nn.Conv3d(2, 3, 40)
    from models.layers.conv import Conv3d

    ours = Conv3d(2, 3, 40, backend="fft")
    tiled = x.repeat(1, 1, 2, 2, 1)  # (1, 2, 120, 120, 120)
    spectrum = ours.input_spectrum(x, (2, 2, 1))  # computed once per trial in training
    runs = {
        "fft_cached": _fwd_bwd(lambda: ours(None, spectrum, TRAIN_GRID, (2, 2, 1)), fft_repeats),
        "fft_plain": _fwd_bwd(lambda: ours(tiled), fft_repeats),
        "direct": _fwd_bwd(lambda: ref(tiled), direct_repeats),
    }
    total = {k: v[0] + v[1] for k, v in runs.items()}
    return {"runs": runs, "ratio": total["direct"] / total["fft_cached"],
            "ratio_plain": total["direct"] / total["fft_plain"],
            "ratio_forward": runs["direct"][0] / runs["fft_cached"][0]}


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """User + system CPU time of this process, s (immune to other jobs' load, unlike wall time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def epoch_child(
    dataset: str | None, preset: str = "seed-base", epochs: int = 2, batch_size: int = 20
) -> dict[str, Any]:
    """Train ``preset`` for ``epochs`` in this process: wall and CPU s per epoch, peak RSS MB."""
    from models.train import run_trial

    source = SyntheticDataset(source=dataset)
    cfg = {"preset": preset, "epochs": epochs, "batch_size": batch_size, "lr": 0.01}
    if preset in ("seed-base", "seed-largep"):
        cfg["backend"] = "fft"
    marks: list[tuple[float, float]] = [(_cpu_s(), _peak_rss_mb())]

    def mark(record: dict[str, float]) -> None:  # before the baselines import pymatgen
        marks.append((_cpu_s(), _peak_rss_mb()))

    result = run_trial(cfg, source, on_epoch=mark)
    cpu = [b[0] - a[0] for a, b in itertools.pairwise(marks)]
    return {"preset": preset, "wall_s": [h["seconds"] for h in result.history], "cpu_s": cpu,
            "n_train": len(result.train_composites), "n_val": len(result.val_composites),
            "peak_rss_mb": marks[-1][1],
            "data": (f"{BENCH_SAMPLES} composites cycling the FM densities of {dataset} "
                     "(labels alternate)") if dataset else
                    f"{BENCH_SAMPLES} synthetic random densities of the real shape (timing only)"}


def epoch(dataset: str | None, preset: str = "seed-base", epochs: int = 2) -> dict[str, Any]:
    """``epoch_child`` in a fresh interpreter, so the peak RSS is that of the trial alone."""
    code = ("import json, sys; from models.bench import epoch_child; print(json.dumps("
            "epoch_child(sys.argv[1] or None, sys.argv[2], int(sys.argv[3]))))")
    out = subprocess.run([sys.executable, "-c", code, dataset or "", preset, str(epochs)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_info() -> dict[str, Any]:
    """The machine a measurement runs on: cores, CPU model, torch threads and version, the GPU
    torch sees (None on a CPU-only machine)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cores": os.cpu_count(), "cpu": cpu, "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "gpu": gpu}


def machine() -> str:
    """``machine_info`` and the load average now, in words (for a log line)."""
    m = machine_info()
    gpu = f", {m['gpu']}" if m["gpu"] else ""
    return (f"{m['cores']} cores ({m['cpu']}), {m['torch_threads']} torch threads, torch "
            f"{m['torch']}{gpu}, load average {os.getloadavg()[0]:.1f}")


def measure_base(dataset: str | None = None, threads: int = CPU_THREADS,
                 presets: bool = False) -> dict[str, Any]:
    """The original base model (seed-base) on this machine -> the ``seed-base`` record's figures:
    ``first_layer`` (its first conv, FFT vs torch.nn.Conv3d), ``epoch`` (two epochs over
    BENCH_SAMPLES composites at batch 20 in a fresh process: wall and CPU s per epoch, peak RSS),
    ``estimate_mb`` (``magvox estimate`` of that trial) and, with ``presets``, one epoch of each
    other preset beside its estimate."""
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from models.estimate import estimate

    first = first_layer()
    ep = epoch(dataset)
    est = estimate({"preset": "seed-base", "backend": "fft"},
                   n_samples=BENCH_SAMPLES).train_memory_mb
    others = []
    for name in ("seed-small", "seed-largep", "periodic") if presets else ():
        measured = epoch(dataset, name, epochs=1)
        others.append({**measured, "estimate_mb": estimate(
            {"preset": name, "batch_size": 20}, n_samples=BENCH_SAMPLES).train_memory_mb})
    return {"first_layer": first, "epoch": ep, "estimate_mb": est, "presets": others,
            "dataset": dataset, "samples": BENCH_SAMPLES, "batch_size": 20}


def measure_learner(learner: dict[str, Any], dataset: str | None, threads: int = CPU_THREADS,
                    process: bool = True) -> dict[str, Any]:
    """The default learner (``learner``: the default search's first configuration) -> the
    ``learner`` record's figures: ``layer`` (its strided first conv, direct vs FFT, FLOPs and
    bytes), ``trial`` (the whole default trial held in memory, backend auto vs fft) and, with
    ``process``, ``process`` (``magvox train --preset P`` as a user runs it, auto vs fft: the
    command issue 21 timed at 127 s)."""
    from models import bench_learner

    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    out: dict[str, Any] = {"learner": learner, "dataset": dataset,
                           "layer": bench_learner.first_layer()}
    out["trial"] = bench_learner.whole_trial(learner, dataset) if dataset else None
    if process and dataset:
        out["process"] = bench_learner.process_trial(str(learner.get("preset")), dataset)
    return out
