"""The default learner's bench rows: FLOPs and traffic of its strided first conv, both backends
timed on the same input, and the section that goes into BENCHMARKS.md."""

from __future__ import annotations

from models import bench_learner
from models.bench_learner import first_layer, layer_traffic, markdown


def test_strided_conv_counts_only_the_strided_outputs() -> None:
    row = first_layer(batch=1, repeats=1)["rows"]
    outputs = 15 * 15 * 30  # 60x60x120 at stride 4
    assert row["direct"]["gflop"] * 1e9 == 2 * (2.0 * 2 * 8 * 4**3 * outputs)  # fwd + grad w
    assert row["fft"]["gflop"] > 10 * row["direct"]["gflop"]  # FFT computes every output
    assert 0 < layer_traffic(2, 8, 4, 4, "direct") < layer_traffic(2, 8, 4, 4, "fft")
    assert all(r["s"] > 0 and r["gbyte_s"] > 0 for r in row.values())


def test_the_section_has_a_row_per_backend_and_the_trial_ratio() -> None:
    layer = first_layer(batch=1, repeats=1)
    trial = {"auto": {"wall_s": 10.0, "train_s": 8.0, "epochs": 12, "folds": 3, "metric": 0.8},
             "fft": {"wall_s": 120.0, "train_s": 118.0, "epochs": 12, "folds": 3,
                     "metric": 0.8}, "ratio": 12.0}
    text = "\n".join(markdown(layer, trial))
    assert "| direct |" in text and "| fft |" in text and "| 12.0x |" in text
    assert bench_learner.GRID == (60, 60, 120)
