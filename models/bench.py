"""``magvox bench``: timings of the base model on this machine, appended to BENCHMARKS.md.

Measures in one run: (1) the first conv layer of seed-base, forward+backward per sample, FFT vs
torch.nn.Conv3d (oneDNN) and their ratio; (2) one seed-base epoch over 62 samples (43 train,
19 validation) with the FFT backend, in a fresh subprocess whose peak RSS is (3), at batch 20.
Without a dataset, the epoch runs on synthetic densities of the real shape (timing only).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch


class SyntheticDataset:
    """``n`` composites, random FM densities on the training grid, alternating labels (timing)."""

    def __init__(self, n: int = 62, grid: tuple[int, int, int] = (60, 60, 120), seed: int = 0):
        self.grid, self.rng = grid, np.random.default_rng(seed)
        comps = [f"Cr{el}Ge2Te6" for el in _element_names(n)]
        self.index = pd.DataFrame({"sample_id": [f"{c}_FM" for c in comps], "composite": comps,
                                   "configuration": "FM"})
        self.labels = pd.DataFrame({"composite": comps, "ground_state": np.arange(n) % 2,
                                    "moment_uB": 6.0, "exchange_energy_eV": 0.1})

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Random m (Nx, Ny, Nz) float32, uB/A^3 scale."""
        return (0.05 * self.rng.standard_normal(self.grid)).astype(np.float32)


def _element_names(n: int) -> list[str]:
    """n distinct element-like symbols (composite names only have to parse)."""
    from pymatgen.core.periodic_table import Element

    return [e.symbol for e in Element][:n]


def _time(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls, s."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def first_layer(direct_repeats: int = 1, fft_repeats: int = 3) -> dict[str, float]:
    """seed-base first conv, one sample (1, 2, 120^3) -> (1, 3, 81^3), forward+backward, s."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 60, 60, 120)
    ref = torch.nn.Conv3d(2, 3, 40)
    from models.layers.conv import Conv3d

    ours = Conv3d(2, 3, 40, backend="fft")
    tiled = x.repeat(1, 1, 2, 2, 1)  # (1, 2, 120, 120, 120)
    spectrum = ours.input_spectrum(x, (2, 2, 1))

    def run_fft(cached: bool) -> None:
        y = ours(None, spectrum, (60, 60, 120), (2, 2, 1)) if cached else ours(tiled)
        y.sum().backward()

    fft_cached = _time(lambda: run_fft(True), fft_repeats)
    fft_plain = _time(lambda: run_fft(False), fft_repeats)
    direct = _time(lambda: ref(tiled).sum().backward(), direct_repeats)
    return {"direct_s": direct, "fft_tiled_cached_s": fft_cached, "fft_plain_s": fft_plain,
            "ratio": direct / fft_cached, "ratio_plain": direct / fft_plain}


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def epoch_child(dataset: str | None, batch_size: int = 20) -> dict[str, Any]:
    """Train seed-base 2 epochs (FFT) in this process; times and peak RSS (MB)."""
    from models.train import run_trial

    source = dataset if dataset else SyntheticDataset()
    cfg = {"preset": "seed-base", "backend": "fft", "epochs": 2, "batch_size": batch_size,
           "lr": 0.01}
    rss: list[float] = []  # peak RSS at each epoch end (before the baselines import pymatgen)
    result = run_trial(cfg, source, on_epoch=lambda r: rss.append(_peak_rss_mb()) and None)
    rss_mb = rss[-1]
    return {"epoch1_s": result.history[0]["seconds"], "epoch2_s": result.history[1]["seconds"],
            "n_train": len(result.train_composites), "n_val": len(result.val_composites),
            "peak_rss_mb": rss_mb, "data": "synthetic" if not dataset else str(dataset)}


def epoch(dataset: str | None, batch_size: int = 20) -> dict[str, Any]:
    """``epoch_child`` in a fresh interpreter, so the peak RSS is that of the trial alone."""
    code = ("import json, sys; from models.bench import epoch_child; "
            "print(json.dumps(epoch_child(sys.argv[1] or None, int(sys.argv[2]))))")
    out = subprocess.run([sys.executable, "-c", code, dataset or "", str(batch_size)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    """CPU model, cores torch uses, torch version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def markdown(first: dict[str, float], ep: dict[str, Any], est_mb: float) -> str:
    """The BENCHMARKS.md section for one run."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    err = 100.0 * (est_mb - ep["peak_rss_mb"]) / ep["peak_rss_mb"]
    return "\n".join([
        f"### magvox bench, {when}", "", f"Machine: {machine()} (CPU; load from other jobs "
        f"possible). Epoch data: {ep['data']}.", "",
        "| measure | value | target |", "|---|---|---|",
        f"| seed-base conv1 fwd+bwd per sample, torch.nn.Conv3d | {first['direct_s']:.2f} s | |",
        f"| same, FFT (one period, cached spectrum) | {first['fft_tiled_cached_s']:.3f} s | |",
        f"| same, FFT on the tiled 120^3 input, no cache | {first['fft_plain_s']:.3f} s | |",
        f"| ratio Conv3d / FFT (cached; plain) | {first['ratio']:.0f}x; "
        f"{first['ratio_plain']:.0f}x | >= 30 (goal 100) |",
        f"| seed-base epoch, {ep['n_train']} train + {ep['n_val']} val, batch 20, FFT: "
        f"first epoch (builds spectrum cache) | {ep['epoch1_s']:.1f} s | <= 20 s (goal 8 s) |",
        f"| same, later epochs | {ep['epoch2_s']:.1f} s | <= 20 s (goal 8 s) |",
        f"| peak RSS of that trial process | {ep['peak_rss_mb']:.0f} MB | <= 2048 MB |",
        f"| `magvox estimate` for it | {est_mb:.0f} MB ({err:+.0f}%) | within 30% |", ""])


def run_bench(dataset: str | None = None, out: str | Path = "BENCHMARKS.md",
              threads: int = 2) -> str:
    """Measure everything, append the section to ``out``, return it."""
    torch.set_num_threads(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    from models.estimate import estimate

    first = first_layer()
    ep = epoch(dataset)
    est = estimate({"preset": "seed-base", "backend": "fft"}, n_samples=62).train_memory_mb
    text = markdown(first, ep, est)
    with open(out, "a", encoding="utf-8") as fh:
        fh.write("\n" + text)
    return text
