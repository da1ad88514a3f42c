"""One trial on small data: metrics, baselines, determinism, checkpoints and resume, splits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from magdata_fake import FakeDataset, write_zarr_dataset

from models.checkpoint import checkpoint_path
from models.split import split_indices
from models.train import run_trial
from models.trial import TrialConfig

BASE = {"preset": "seed-base", "kernel_sizes": [5], "lr": 0.5, "epochs": 3, "batch_size": 4}


class Killed(Exception):
    """Stands in for a SIGKILL between two epochs."""


def test_trial_reports_metrics_baselines_and_filters(fake_dataset):
    result = run_trial(BASE, fake_dataset)
    assert len(result.history) == 3 and result.resumed_from == 0
    for key in ("train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy",
                "val_macro_f1", "val_roc_auc", "seconds", "epoch"):
        assert key in result.history[-1]
    assert set(result.baselines) == {"majority", "composition", "integrals"}
    assert result.filters.shape == (3, 2, 5, 5, 5) and result.filters.dtype == np.float32
    # 4-fold cross-validation over the development composites; the test split is never seen
    assert result.folds == 4 and "val_balanced_accuracy_std" in result.history[-1]
    assert set(result.train_composites) == set(result.val_composites)
    assert len(result.val_composites) + len(result.test_composites) == 20
    assert len(result.test_composites) >= 3
    assert not set(result.test_composites) & set(result.val_composites)
    assert "majority" in result.table() and "baselines" in result.table()
    assert result.to_dict()["config"]["kernel_sizes"] == [5]


def test_the_fake_densities_integrate_to_their_moment_labels(fake_dataset):
    """The stand-in data keeps the store's convention: each FM density integrates (sum V / N, as
    models.data integrates it) to its composite's moment label, each AFM-Neel density to 0."""
    from models.data import load_samples

    fm = load_samples(fake_dataset, "moment")
    assert len(fm.y) == 20 and fm.integrals_uB.shape == (20, 1, 2)
    np.testing.assert_allclose(fm.integrals_uB[:, 0, 0], fm.y, atol=1e-5)
    ferro = fake_dataset.labels.set_index("composite").loc[fm.composites, "ground_state"] == 1
    assert np.all(np.where(ferro, fm.y == 6.0, (fm.y >= 3.0) & (fm.y < 4.0)))  # A2 +3 or +0-1
    neel = load_samples(fake_dataset, "moment", "AFM-Neel")
    np.testing.assert_allclose(neel.integrals_uB[:, 0, 0], 0.0, atol=1e-5)
    assert np.all(neel.integrals_uB[:, 0, 1] > 5.9)  # two antiparallel 3 uB sites, not nothing


def test_same_seed_same_numbers(fake_dataset):
    a, b = run_trial(BASE, fake_dataset), run_trial(BASE, fake_dataset)
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in a.history]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in b.history]
    assert np.array_equal(a.filters, b.filters)
    c = run_trial({**BASE, "seed": 1}, fake_dataset)
    assert not np.array_equal(a.filters, c.filters)


def test_killed_trial_resumes_where_it_stopped(fake_dataset, tmp_path):
    whole = run_trial(BASE, fake_dataset)

    def kill_after_two(record):
        if record["epoch"] == 2:
            raise Killed

    with pytest.raises(Killed):
        run_trial(BASE, fake_dataset, checkpoint_dir=tmp_path, on_epoch=kill_after_two)
    state = torch.load(checkpoint_path(tmp_path), weights_only=True)
    assert state["epoch"] == 2 and not list(tmp_path.glob(".checkpoint-*"))
    resumed = run_trial(BASE, fake_dataset, checkpoint_dir=tmp_path)
    assert resumed.resumed_from == 2 and len(resumed.history) == 3
    assert np.array_equal(resumed.filters, whole.filters)
    assert resumed.history[-1]["val_loss"] == whole.history[-1]["val_loss"]
    with pytest.raises(ValueError, match="another configuration"):
        run_trial({**BASE, "lr": 0.1}, fake_dataset, checkpoint_dir=tmp_path)


def test_on_epoch_can_stop_the_trial(fake_dataset):
    seen = []
    result = run_trial(BASE, fake_dataset, on_epoch=lambda r: seen.append(r["epoch"]) or True)
    assert seen == [1.0] and result.stopped_early and len(result.history) == 1


@pytest.mark.parametrize("target, keys", [("moment", ("val_mae", "val_r2")),
                                          ("exchange_energy", ("val_mae", "val_r2")),
                                          ("moment_class", ("val_accuracy", "val_roc_auc"))])
def test_other_targets(fake_dataset, target, keys):
    result = run_trial({**BASE, "target": target, "epochs": 1, "lr": 0.01}, fake_dataset)
    assert all(k in result.history[0] for k in keys)
    assert math.isfinite(result.history[0]["val_loss"])


def test_signed_input_and_adam(fake_dataset):
    result = run_trial({**BASE, "input_channels": "signed", "optimizer": "adam", "lr": 1e-3,
                        "epochs": 1}, fake_dataset)
    assert result.filters.shape == (3, 1, 5, 5, 5)


def test_diverging_loss_stops_without_raising(fake_dataset):
    result = run_trial({**BASE, "lr": 1e30, "epochs": 3}, fake_dataset)
    assert result.diverged and len(result.history) == 1
    assert not math.isfinite(result.history[-1]["train_loss"])


def test_split_is_stratified_grouped_and_70_30():
    comps = [f"C{i}" for i in range(62)]
    y = np.arange(62) % 2
    train, val = split_indices(comps, y, classification=True, seed=0)
    assert (len(train), len(val)) == (43, 19)
    assert abs(y[val].mean() - 0.5) < 0.1
    again = split_indices(comps, y, classification=True, seed=0)
    assert np.array_equal(train, again[0])


def test_kfold_covers_every_composite_once():
    comps, y = [f"C{i}" for i in range(20)], np.arange(20) % 2
    vals = [split_indices(comps, y, classification=True, seed=3, folds=4, fold=f)[1]
            for f in range(4)]
    assert sorted(np.concatenate(vals).tolist()) == list(range(20))


def test_trains_from_a_zarr_store_written_by_data_prep(tmp_path):
    path = write_zarr_dataset(tmp_path / "ds.zarr", FakeDataset(n_composites=12))
    from models.data import load_samples

    both = load_samples(path, "moment", "FM+AFM-Neel")  # labels as data_prep computed them
    assert len(both.y) == 12
    np.testing.assert_allclose(both.integrals_uB[:, 0, 0], both.y, atol=1e-5)  # FM: the label
    np.testing.assert_allclose(both.integrals_uB[:, 1, 0], 0.0, atol=1e-5)  # Neel: nothing
    result = run_trial({**BASE, "epochs": 2, "lr": 0.5, "folds": 0}, path)
    assert len(result.train_composites) + len(result.val_composites) == 12 - len(
        result.test_composites)
    assert (path / "holdout.json").is_file() and result.test_composites
    assert TrialConfig.from_dict(result.config.to_dict()) == result.config


def test_device_choice(fake_dataset):
    from models.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == resolve_device("auto")
    with pytest.raises(ValueError, match="not one of"):
        resolve_device("tpu")
    cpu = run_trial(BASE, fake_dataset, device="cpu")
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
        with pytest.raises(ValueError, match="sees no CUDA"):
            run_trial(BASE, fake_dataset, device="cuda")
        return
    # on a GPU machine: the same trial on the GPU gives the CPU's numbers (float32 FFT, cuDNN)
    gpu = run_trial(BASE, fake_dataset, device="cuda")
    assert gpu.filters.dtype == np.float32 and isinstance(gpu.filters, np.ndarray)
    assert all(v.device.type == "cpu" for v in gpu.state_dict.values())
    np.testing.assert_allclose(gpu.filters, cpu.filters, atol=1e-3)
    for a, b in zip(cpu.history, gpu.history, strict=True):
        assert math.isclose(a["train_loss"], b["train_loss"], rel_tol=1e-3, abs_tol=1e-4)


def test_a_finished_trial_resumed_from_its_last_checkpoint_trains_nothing(fake_dataset, tmp_path):
    whole = run_trial(BASE, fake_dataset, checkpoint_dir=tmp_path)
    epochs = []
    again = run_trial(BASE, fake_dataset, checkpoint_dir=tmp_path, on_epoch=epochs.append)
    assert epochs == [] and again.resumed_from == 3 and again.history == whole.history
    assert np.array_equal(again.filters, whole.filters)


def test_classify_by_moment_regresses_the_moment_and_reads_the_class_off_it(fake_dataset):
    from models.config import ConfigError
    from models.data import load_samples
    from models.member import Targets
    from models.trial import validate

    config = TrialConfig.from_dict({**BASE, "target": "moment_class", "classify_by": "moment"})
    assert config.model_config().num_outputs == 1 and config.regresses
    result = run_trial(config, fake_dataset)
    last = result.history[-1]
    assert 0 <= last["val_balanced_accuracy"] <= 1 and math.isfinite(last["val_loss"])
    assert result.state_dict["head.weight"].shape[0] == 1  # one output: the moment
    samples = load_samples(fake_dataset, "moment_class")
    assert np.array_equal(samples.y, (samples.value > 4.0).astype(int))
    train = np.arange(len(samples.y))
    targets = Targets(samples.y, "class", train, torch.device("cpu"), samples.value, 4.0)
    # a network that regressed every moment exactly gets every class right
    exact = (samples.value - targets.mean) / targets.std
    p = targets.unscale("class", exact)
    assert np.array_equal(p >= 0.5, samples.value >= 4.0)
    with pytest.raises(ConfigError, match="classify_by"):
        validate(TrialConfig.from_dict({**BASE, "classify_by": "moment"}), (8, 8, 12))


def test_repeats_rerun_the_cross_validation_with_new_seeds(fake_dataset):
    """repeats=2: the folds twice, reshuffled and re-initialised; the first repeat is the plain
    trial (same first model), the metric the mean over all members with its spread."""
    import torch

    from models.config import ConfigError

    one = run_trial({**BASE, "epochs": 1}, fake_dataset)
    two = run_trial({**BASE, "epochs": 1, "repeats": 2}, fake_dataset)
    assert two.folds == one.folds == 4
    for key, value in one.state_dict.items():
        assert torch.equal(two.state_dict[key], value), key
    assert two.history[0]["val_loss"] != one.history[0]["val_loss"]  # 8 members, not 4
    assert "x 2 seeds" in two.table()
    with pytest.raises(ConfigError, match="repeats"):
        run_trial({**BASE, "repeats": 0}, fake_dataset)


def test_cached_padded_inputs_train_the_same_network_as_raw_batches(fake_dataset, monkeypatch):
    """The default learner's direct conv reads each batch's circularly padded inputs from the
    trial's cache (stacked into a reused buffer) instead of x: the same network comes out as
    with the cache off, and the buffer really was used."""
    import models.member as member

    config = {"preset": "periodic-fast", "epochs": 3, "batch_size": 4, "folds": 2}
    seen: list[type] = []
    batch = member.SpectrumCache.batch

    def spy(self, idx):
        out = batch(self, idx)
        seen.append(type(out))
        return out

    monkeypatch.setattr(member.SpectrumCache, "batch", spy)
    cached = run_trial(config, fake_dataset)
    assert seen and set(seen) == {torch.Tensor}  # stacked padded inputs, every batch
    init = member.SpectrumCache.__init__
    monkeypatch.setattr(member.SpectrumCache, "__init__",
                        lambda self, model, x, enabled=True: init(self, model, x, False))
    seen.clear()
    raw = run_trial(config, fake_dataset)
    assert set(seen) <= {type(None)}
    np.testing.assert_allclose(cached.filters, raw.filters, rtol=1e-4, atol=1e-6)
    for a, b in zip(cached.history, raw.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
