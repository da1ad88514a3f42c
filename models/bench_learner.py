"""``magvox bench learner``: the default learner's strided first conv direct vs FFT, and a trial.

The default search's learner (``periodic-fast``: conv 2 -> 8 channels, 4^3 kernel, stride 4,
circular, on 60x60x120) is what every trial of a search and of a nested cross-validation trains, so
its cost sets what an assessment costs. Measured in one run (ratios, same machine, same load): (1)
that layer forward+backward per sample at batch 8, direct (F.conv3d on the circularly padded input)
and FFT (``models.layers.fftconv``), beside each one's FLOPs and the bytes of the arrays it reads
and writes once (a lower bound of its memory traffic; on 2 cores the direct path is limited by that
traffic, not by arithmetic); (2) the whole default trial (k folds side by side, every epoch, on the
bundled dataset held in memory as a search holds it, imports paid beforehand) with ``backend=auto``
(what it chooses now: direct) and with ``backend=fft`` (what ``auto`` chose before it counted the
stride); (3) ``magvox train --preset periodic-fast`` as a process, both backends (imports, the
store read and regridded, 4 folds x 25 epochs, the baselines: the command issue 21 timed).
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from models.layers.conv import conv_flops, conv_output
from models.layers.fftconv import direct_conv3d, fft_conv3d, fft_lengths

GRID = (60, 60, 120)


def layer_traffic(cin: int, cout: int, kernel: int, stride: int, backend: str,
                  grid: tuple[int, int, int] = GRID) -> float:
    """Bytes read and written once per sample, forward + weight gradient (float32 = 4 B,
    complex64 = 8 B): direct: input, padded copy written then read twice (forward, weight
    gradient), output and its gradient; fft: input, its spectrum, the product and inverse
    transform per output channel, the same again for the gradient."""
    out = math.prod(conv_output(grid, kernel, stride, "circular"))
    n = math.prod(grid)
    if backend == "direct":
        padded = math.prod(m + kernel - 1 for m in grid)
        return 4.0 * (cin * n + 3 * cin * padded + 2 * cout * out)
    lengths = fft_lengths(grid, "circular")
    spec = math.prod(lengths[:-1]) * (lengths[-1] // 2 + 1)
    one_way = 4 * cin * n + 8 * cin * spec + 8 * cout * spec + 4 * cout * n
    return 2.0 * one_way


def _time(fn, repeats: int) -> float:
    """Best wall time of fn() + backward over ``repeats`` runs, s."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn().square().sum().backward()
        best = min(best, time.perf_counter() - start)
    return best


def first_layer(cin: int = 2, cout: int = 8, kernel: int = 4, stride: int = 4, batch: int = 8,
                repeats: int = 3) -> dict[str, Any]:
    """The default learner's first conv, forward + weight gradient, per sample, both backends."""
    torch.manual_seed(0)
    x = torch.randn(batch, cin, *GRID)  # the input needs no gradient, as in training
    w = torch.randn(cout, cin, kernel, kernel, kernel, requires_grad=True)
    b = torch.zeros(cout, requires_grad=True)
    calls = {"direct": lambda: direct_conv3d(x, w, b, stride, "circular"),
             "fft": lambda: fft_conv3d(x, w, b, stride, "circular")}
    out = conv_output(GRID, kernel, stride, "circular")
    flops = conv_flops(cin, cout, kernel, GRID, out, "circular", batch)
    rows = {}
    for name, call in calls.items():
        seconds = _time(call, repeats) / batch
        gflop = 2 * flops[name] / 1e9  # forward + weight gradient, about twice the forward
        gbyte = layer_traffic(cin, cout, kernel, stride, name) / 1e9
        rows[name] = {"s": seconds, "gflop": gflop, "gbyte": gbyte,
                      "gflop_s": gflop / seconds, "gbyte_s": gbyte / seconds}
    return {"layer": f"{cin}->{cout}, {kernel}^3, stride {stride}, circular, batch {batch}",
            "rows": rows, "ratio": rows["fft"]["s"] / rows["direct"]["s"]}


class InMemory:
    """A dataset read once into memory, as a search holds it (``search.tune.data.SharedDataset``):
    the trials timed below then pay what a search trial pays, not the store's reading."""

    def __init__(self, dataset: Any) -> None:
        from models.data import open_source, test_composites

        ds = open_source(dataset)
        self.index, self.labels = ds.index, ds.labels
        self.test_composites = test_composites(ds)
        self.spins = {sid: ds.spin(sid, grid="train") for sid in self.index["sample_id"]}

    def spin(self, sample_id: str, grid: str = "train") -> Any:
        """The training-grid density of ``sample_id`` (uB/A^3)."""
        return self.spins[sample_id]


def whole_trial(config: dict[str, Any], dataset: Any) -> dict[str, Any]:
    """The trial of ``config`` on ``dataset`` (held in memory) with backend auto and fft, after a
    one-epoch warm-up that pays the imports: wall s of run_trial and of its epochs, and the
    metric each reached (the same network either way, to ~1e-6)."""
    from models.train import run_trial

    data = InMemory(dataset)
    run_trial({**config, "epochs": 1}, data, device="cpu")  # imports, allocator: not timed
    out = {}
    for backend in ("auto", "fft"):
        start = time.perf_counter()
        result = run_trial({**config, "backend": backend}, data, device="cpu")
        out[backend] = {"wall_s": time.perf_counter() - start, "train_s": result.seconds,
                        "epochs": len(result.history), "folds": result.folds,
                        "metric": result.final.get("balanced_accuracy",
                                                   result.final.get("mae", math.nan))}
    out["ratio"] = out["fft"]["wall_s"] / out["auto"]["wall_s"]
    return out


def process_trial(preset: str, dataset: str) -> dict[str, Any]:
    """``magvox train --preset PRESET`` as a user runs it (a fresh process: imports, reading
    and regridding the store, its folds and epochs, the baselines), backend auto and fft:
    wall s of each and the validation metric it printed."""
    import subprocess
    import sys

    out: dict[str, Any] = {"preset": preset}
    for backend in ("auto", "fft"):
        cmd = [sys.executable, "-m", "search.commands.cli", "train", "--preset", preset,
               "--dataset", dataset, "--set", f"backend={backend}"]
        start = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, check=True)
        cnn = [line.split() for line in run.stdout.splitlines() if line.startswith("cnn ")]
        out[backend] = {"wall_s": time.perf_counter() - start,
                        "balanced_accuracy": float(cnn[-1][3]) if cnn else math.nan}
    out["ratio"] = out["fft"]["wall_s"] / out["auto"]["wall_s"]
    return out
