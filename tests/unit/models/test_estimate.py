"""magvox estimate: exact parameter counts, FLOP formulas, memory verdicts; the CLI commands."""

from __future__ import annotations

import json

import pytest

from models.config import ConfigError
from models.estimate import estimate
from models.net import num_parameters
from models.presets import create_model, list_models
from search.commands.cli import main
from search.tune.overrides import parse_sets as parse_overrides


@pytest.mark.parametrize("name", list_models())
def test_parameter_count_is_exact(name):
    est = estimate({"preset": name}, n_samples=62)
    assert est.params == num_parameters(create_model(name))


def test_base_model_flops_and_memory_parts():
    est = estimate({"preset": "seed-base"}, n_samples=62)
    (conv,) = est.layers
    assert conv.out_shape == (3, 81, 81, 81)
    assert conv.flops_direct == 2 * 2 * 3 * 40**3 * 81**3
    assert conv.flops_fft < conv.flops_direct / 100 and conv.backend == "fft"
    assert est.data_mb == pytest.approx(62 * 2 * 60 * 60 * 120 * 4 / 2**20 + 62 * 2 * 60 * 60
                                        * 61 * 8 / 2**20)
    assert 1000 < est.train_memory_mb < 2048  # measured 1.6 GB peak (BENCHMARKS.md)


def test_fits_verdict_and_batch_scaling():
    small = estimate({"preset": "seed-base"}, batch_size=2, n_samples=62, available_mb=1e5)
    big = estimate({"preset": "seed-base"}, batch_size=40, n_samples=62, available_mb=100)
    assert small.fits and not big.fits
    assert big.activation_mb == pytest.approx(20 * small.activation_mb)


def test_impossible_config_raises_naming_the_field():
    with pytest.raises(ConfigError, match=r"strides\[0\]|kernel_sizes"):
        estimate({"preset": "seed-base", "kernel_sizes": [121]}, n_samples=62)


def test_parse_overrides_reads_yaml_values():
    assert parse_overrides(["lr=0.1", "kernel_sizes=[20, 5]", "padding=circular"]) == {
        "lr": 0.1, "kernel_sizes": [20, 5], "padding": "circular"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["lr"])


def test_estimate_cli_exit_codes(capsys):
    assert main(["estimate", "--preset", "seed-base", "--json", "--memory-mb", "100000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fits"] is True and out["params"] == 3 * (2 * 40**3 + 1) + 2 * (3 * 40**3 + 1)
    assert main(["estimate", "--preset", "seed-base", "--memory-mb", "10"]) == 3
    assert main(["estimate", "--set", "kernel_sizes=[500]"]) == 2
    assert "kernel_sizes[0]" in capsys.readouterr().err


def test_train_cli_reports_a_missing_dataset(tmp_path, capsys):
    assert main(["train", "--dataset", str(tmp_path / "none.zarr")]) == 2
    assert "magvox prep" in capsys.readouterr().err


def test_train_cli_prints_the_table_and_resumes(tmp_path, capsys):
    from magdata_fake import FakeDataset, write_zarr_dataset

    store = write_zarr_dataset(tmp_path / "ds.zarr", FakeDataset(n_composites=10))
    argv = ["train", "--preset", "seed-base", "--dataset", str(store), "--set", "kernel_sizes=[5]",
            "--set", "epochs=2", "--set", "lr=0.5", "--set", "batch_size=4",
            "--set", "folds=3", "--out", str(tmp_path / "run")]  # 3 development AFM composites
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "composition" in out.out and "epoch 2" in out.err
    saved = json.loads((tmp_path / "run" / "trial.json").read_text())
    assert saved["config"]["kernel_sizes"] == [5] and len(saved["history"]) == 2
    assert main(argv) == 0  # all epochs done: resumes, trains nothing, same table
    assert "epoch" not in capsys.readouterr().err


def test_training_flops_count_every_fold_epoch_and_pass():
    """A trial's training FLOPs: the chosen backends' forward FLOPs per sample, x3 for each
    training sample (forward, input and weight gradients), x1 for each validation sample."""
    slow = {"preset": "seed-base", "conv_filters": [4], "kernel_sizes": [24], "strides": [1],
            "pool_sizes": [2], "backend": "direct", "tiling": [2, 2, 1], "epochs": 2}
    est = estimate(slow, n_samples=100)
    (conv,) = est.layers
    assert conv.backend == "direct" and conv.out_shape == (4, 97, 97, 97)  # tiled 120^3, valid
    assert conv.flops_direct == 2 * 2 * 4 * 24**3 * 97**3
    folds = 4  # 4-fold CV: each fold trains on 75 and validates on 25 samples per epoch
    expected = 2 * folds * (75 * 3 + 25) * conv.flops_direct
    assert est.train_tflop * 1e12 == pytest.approx(expected)
    one_split = estimate({**slow, "folds": 0, "val_fraction": 0.3}, n_samples=100)
    assert one_split.train_tflop * 1e12 == pytest.approx(2 * (70 * 3 + 30) * conv.flops_direct)
    fft = estimate({**slow, "backend": "fft"}, n_samples=100)
    assert fft.train_tflop < est.train_tflop / 100  # what the search's backend choice is worth
