"""Every preset trains end to end on the bundled dataset (real GPAW spin densities, 60x60x120)."""

from __future__ import annotations

import math

import pytest

from models.presets import list_models
from models.train import run_trial


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_preset_trains_one_epoch_on_the_bundled_dataset(bundled_dataset, name):
    result = run_trial({"preset": name, "epochs": 1, "lr": 0.01, "target": "moment",
                        "folds": 0}, bundled_dataset)
    record = result.history[0]
    assert math.isfinite(record["train_loss"]) and math.isfinite(record["val_mae"])
    assert set(result.val_composites).isdisjoint(result.test_composites)
    assert set(result.train_composites).isdisjoint(result.test_composites)
    assert len(result.test_composites) >= 10
    assert set(result.baselines) == {"majority", "composition", "integrals"}


def test_two_configurations_of_each_composite_as_input_channels(bundled_dataset):
    """configuration=FM+AFM-Neel: each composite's FM and Neel densities side by side, each the
    same array as read alone, each integrating (uB per voxel) to its own run's moment."""
    import numpy as np

    from data_prep.dataset.store import open_dataset
    from models.data import load_samples, per_voxel, to_channels
    from models.trial import TrialConfig

    fm = load_samples(bundled_dataset, "ground_state", "FM")
    both = load_samples(bundled_dataset, "ground_state", "FM+AFM-Neel")
    assert both.spin.shape == (len(both.y), 2, *fm.grid) and len(both.y) >= 50
    row = {c: i for i, c in enumerate(fm.composites)}
    for i in (0, len(both.y) // 2, len(both.y) - 1):
        assert np.array_equal(both.spin[i, 0], fm.spin[row[both.composites[i]]])
    index = open_dataset(bundled_dataset).index.set_index(["composite", "configuration"])
    per_voxel(both.spin, both.volume_A3)
    sums = both.spin.sum(axis=(2, 3, 4), dtype=np.float64)  # (S, 2) uB per cell
    reported = np.array([[index.loc[(c, k), "moment_uB"] for k in ("FM", "AFM-Neel")]
                         for c in both.composites])
    np.testing.assert_allclose(sums, reported, atol=0.02)
    x = to_channels(both.spin[:2], "split")  # (2, 4, ...): FM up, FM down, Neel up, Neel down
    assert x.shape == (2, 4, *fm.grid)
    assert np.allclose((x[:, 2] - x[:, 3]).numpy(), both.spin[:2, 1])
    config = TrialConfig.from_dict({"preset": "periodic-fast", "configuration": "FM+AFM-Neel"})
    assert config.model_config().in_channels == 4


@pytest.mark.slow
def test_a_trial_reads_two_configurations_of_each_composite(bundled_dataset):
    result = run_trial({"preset": "periodic-fast", "epochs": 1, "lr": 0.01, "folds": 0,
                        "configuration": "FM+AFM-Neel"}, bundled_dataset)
    assert math.isfinite(result.history[0]["train_loss"])
    assert result.state_dict["input_scale"].shape == (4,)


def test_configuration_names_are_checked():
    from models.config import ConfigError
    from models.trial import TrialConfig, validate

    for bad in ("FM+FM", "FM+", ""):
        with pytest.raises(ConfigError, match="configuration"):
            validate(TrialConfig.from_dict({"preset": "periodic-fast", "configuration": bad}),
                     (60, 60, 120))


def test_p99_scale_is_the_99th_percentile_of_the_training_densities(bundled_dataset):
    """The input scale (torch.kthvalue) is the very element numpy's partition picks, per channel,
    over the real FM densities of the training composites; zero channels get 1."""
    import numpy as np
    import torch

    from models.data import load_samples, to_channels
    from models.normalize import QUANTILE, fit_input_scale

    samples = load_samples(bundled_dataset, "ground_state", "FM")
    x = to_channels(samples.spin[:12])  # (12, 2, 60, 60, 120)
    scale = fit_input_scale(x, "p99")
    for c in range(2):
        values = np.abs(x[:, c].numpy().ravel())
        kth = int(QUANTILE * (values.size - 1))
        assert scale[c] == np.partition(values, kth)[kth] > 0
    assert fit_input_scale(torch.zeros(2, 1, 4, 4, 4), "p99").tolist() == [1.0]


def test_the_integrals_baseline_reads_each_runs_own_moment(bundled_dataset):
    """The integrals of the input densities (the baseline that reads the CNN's own input) are
    physics: the net moment of each FM density is that run's reported moment, |m| integrates to
    at least that, and a two-configuration input carries each run's own integrals."""
    import numpy as np

    from models.baselines import integral_features
    from models.data import load_samples

    fm = load_samples(bundled_dataset, "moment", "FM")
    net, absolute = fm.integrals_uB[:, 0, 0], fm.integrals_uB[:, 0, 1]
    assert fm.integrals_uB.shape == (len(fm.y), 1, 4)  # + the A1, A2 sphere moments
    np.testing.assert_allclose(net, fm.value, atol=0.02)  # uB per cell
    assert np.all(absolute >= np.abs(net) - 1e-9) and np.all(absolute > 0)
    both = load_samples(bundled_dataset, "ground_state", "FM+AFM-Neel")
    row = {c: i for i, c in enumerate(fm.composites)}
    for i in (0, len(both.y) - 1):
        same = row[both.composites[i]]
        np.testing.assert_allclose(both.integrals_uB[i, 0], fm.integrals_uB[same, 0])
    features = integral_features(both.integrals_uB)  # 2 x (net, |m|, A1, A2) + differences
    assert features.shape == (len(both.y), 12)
    np.testing.assert_allclose(features[:, 8:], features[:, 0:4] - features[:, 4:8])
