"""The default learner's bench: FLOPs and traffic of its strided first conv, both backends timed
on the same input, and its row of BENCHMARKS.md's table."""

from __future__ import annotations

from models import bench_learner
from models.bench_learner import first_layer, layer_traffic
from search.bench.tables import learner


def test_strided_conv_counts_only_the_strided_outputs() -> None:
    row = first_layer(batch=1, repeats=1)["rows"]
    outputs = 15 * 15 * 30  # 60x60x120 at stride 4
    assert row["direct"]["gflop"] * 1e9 == 2 * (2.0 * 2 * 8 * 4**3 * outputs)  # fwd + grad w
    assert row["fft"]["gflop"] > 10 * row["direct"]["gflop"]  # FFT computes every output
    assert 0 < layer_traffic(2, 8, 4, 4, "direct") < layer_traffic(2, 8, 4, 4, "fft")
    assert all(r["s"] > 0 and r["gbyte_s"] > 0 for r in row.values())


def test_the_table_row_gives_both_backends_and_the_trial_ratios() -> None:
    layer = first_layer(batch=1, repeats=1)
    trial = {"auto": {"wall_s": 10.0, "train_s": 8.0, "epochs": 12, "folds": 3, "metric": 0.8},
             "fft": {"wall_s": 120.0, "train_s": 118.0, "epochs": 12, "folds": 3,
                     "metric": 0.8}, "ratio": 12.0}
    process = {"auto": {"wall_s": 12.5}, "fft": {"wall_s": 125.0}, "ratio": 10.0}
    record = {"date": "2026-12-07T04:10Z", "commit": "abc1234", "load": [1.0],
              "machine": {"cores": 2, "cpu": "AMD EPYC", "torch_threads": 2},
              "command": "magvox bench learner",
              "figures": {"layer": layer, "trial": trial, "process": process}}
    cells = learner([record])[-1].split(" | ")
    direct, fft = (layer["rows"][k]["s"] * 1e3 for k in ("direct", "fft"))
    assert cells[2] == f"{direct:.2f} / {fft:.2f} ms" and cells[3] == f"{layer['ratio']:.0f}x"
    assert cells[4:9] == ["10.0 / 120.0 s (12 epochs x 3 folds)", "**12.0x**",
                          "12.5 / 125.0 s", "**10.0x**", "0.800 |"]
    assert bench_learner.GRID == (60, 60, 120)
