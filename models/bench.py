"""``magvox bench``: timings of the base model on this machine, appended to BENCHMARKS.md.

Measures in one run: (1) the first conv layer of seed-base, forward+backward per sample, FFT vs
torch.nn.Conv3d (oneDNN) and their ratio; (2) one seed-base epoch over 62 samples (43 train,
19 validation) with the FFT backend, in a fresh subprocess whose peak RSS is (3), at batch 20.
Without a dataset, the epoch runs on synthetic densities of the real shape (timing only).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from data_prep import TRAIN_GRID
from models import BENCHMARKS, CPU_THREADS

HEADER = ("# magvox benchmarks\n\n"
          "## models: large-kernel convolution and seed-base epochs (`magvox bench`)\n")


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


def machine() -> str:
    """The conditions of a measurement, now: cores, CPU model, the threads torch uses, torch's
    version and the load average (the one description every bench section gives)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), {torch.get_num_threads()} torch threads, torch "
            f"{torch.__version__}, load average {os.getloadavg()[0]:.1f}")


def _first_layer_rows(first: dict[str, Any]) -> list[str]:
    names = {"direct": "torch.nn.Conv3d (oneDNN), 2x2-tiled 120^3 input",
             "fft_plain": "FFT on the tiled 120^3 input, no cache (plain torch.fft)",
             "fft_cached": "FFT, one period + cached input spectrum (what training uses)"}
    rows = [f"| seed-base conv1, 1 sample, {names[k]}: forward / backward / CPU fwd+bwd | "
            f"{f:.3f} s / {b:.3f} s / {c:.2f} s | |" for k, (f, b, c) in first["runs"].items()]
    rows.append(f"| ratio Conv3d / FFT, forward+backward (cached; plain); forward only | "
                f"{first['ratio']:.0f}x; {first['ratio_plain']:.0f}x; "
                f"{first['ratio_forward']:.0f}x | >= 30 (goal 100) |")
    return rows


def markdown(first: dict[str, Any], ep: dict[str, Any], est_mb: float,
             presets: list[tuple[dict[str, Any], float]]) -> str:
    """The BENCHMARKS.md section for one run."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    wall, cpu = ep["wall_s"], ep["cpu_s"]
    lines = [
        f"### magvox bench, {when}", "",
        f"Machine: {machine()} when it ran (a DFT campaign and other "
        f"jobs share the cores, so wall times are inflated; CPU s = user+system time of the "
        f"trial process summed over its threads, an upper bound of the idle-machine wall time "
        f"with one thread and about twice it with two). Epoch data: {ep['data']}.", "",
        "| measure | value | target |", "|---|---|---|",
        *_first_layer_rows(first),
        f"| seed-base epoch, {ep['n_train']} train + {ep['n_val']} val, batch 20, FFT, first "
        f"epoch (fills the spectrum cache): wall / CPU | {wall[0]:.1f} s / {cpu[0]:.1f} s "
        f"| <= 20 s (goal 8 s) |",
        f"| same, second epoch: wall / CPU | {wall[-1]:.1f} s / {cpu[-1]:.1f} s | <= 20 s |",
        f"| peak RSS of that trial process | {ep['peak_rss_mb']:.0f} MB | <= 2048 MB |",
        f"| `magvox estimate` for it | {est_mb:.0f} MB "
        f"({100 * (est_mb / ep['peak_rss_mb'] - 1):+.0f}%) | within 30% |", ""]
    if presets:
        lines += [f"| preset (1 epoch, {BENCH_SAMPLES} samples, batch 20) | epoch wall / CPU "
                  "| peak RSS | estimate |", "|---|---|---|---|"]
        for p, est in presets:
            lines.append(f"| {p['preset']} | {p['wall_s'][0]:.1f} s / {p['cpu_s'][0]:.1f} s | "
                         f"{p['peak_rss_mb']:.0f} MB | {est:.0f} MB "
                         f"({100 * (est / p['peak_rss_mb'] - 1):+.0f}%) |")
        lines.append("")
    return "\n".join(lines)


def learner_section(learner: dict[str, Any], dataset: str | None) -> str:
    """The default learner's section: its first conv direct vs FFT and, on a dataset, the whole
    default trial with backend auto vs fft (``models.bench_learner``)."""
    from models import bench_learner

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    layer = bench_learner.first_layer()
    trial = bench_learner.whole_trial(learner, dataset) if dataset else None
    head = [f"### magvox bench, default learner, {when}", "",
            f"Machine: {machine()} when it ran. "
            f"Trial: {learner.get('preset')} as the default search tries it first "
            f"({learner.get('epochs')} epochs, {learner.get('folds')} folds) on {dataset}.", ""]
    return "\n".join(head + bench_learner.markdown(layer, trial))


def _append(out: str | Path, text: str) -> None:
    new = not Path(out).exists()
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(f"{HEADER}\n" if new else "\n")
        fh.write(text)


def run_bench(dataset: str | None = None, out: str | Path = BENCHMARKS,
              threads: int = CPU_THREADS, presets: bool = False,
              learner: dict[str, Any] | None = None, learner_only: bool = False) -> str:
    """Measure everything (``learner``: the default search's first configuration, measured
    first; ``learner_only``: that alone), append the section(s) to ``out``, return them."""
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from models.estimate import estimate

    sections = [learner_section(learner, dataset)] if learner else []
    if learner_only:
        text = "\n".join(sections)
        _append(out, text)
        return text
    first = first_layer()
    ep = epoch(dataset)
    est = estimate({"preset": "seed-base", "backend": "fft"},
                   n_samples=BENCH_SAMPLES).train_memory_mb
    others = []
    for name in ("seed-small", "seed-largep", "periodic") if presets else ():
        measured = epoch(dataset, name, epochs=1)
        others.append((measured, estimate({"preset": name, "batch_size": 20},
                                           n_samples=BENCH_SAMPLES).train_memory_mb))
    text = "\n".join([*sections, markdown(first, ep, est, others)])
    _append(out, text)
    return text
