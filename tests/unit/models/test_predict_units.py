"""A saved regression network predicts in the target's units: the file keeps the training grid
and the target scale of the fold that trained it, and a file without the scale is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.member import new_member, predict
from models.predict import Refused, network_scores, prediction_inputs
from models.predict_baselines import composition_reason
from models.saved import load_saved, save_model
from models.split import development_splits
from models.train import prepare, run_trial

MOMENT = {"preset": "seed-base", "kernel_sizes": [5], "lr": 0.01, "epochs": 1, "batch_size": 4,
          "target": "moment", "folds": 2}


@pytest.fixture(scope="module")
def moment_model(tmp_path_factory):
    from magdata_fake import FakeDataset

    data = FakeDataset()
    result = run_trial(MOMENT, data, device="cpu")
    path = tmp_path_factory.mktemp("m") / "model.pt"
    save_model(result.state_dict, result.config, path, grid=result.grid,
               target_scale=result.target_scale)
    return data, result, path


def test_a_regression_model_predicts_moments_in_uB_as_its_first_fold_does(moment_model):
    data, result, path = moment_model
    saved = load_saved(path)
    assert saved.grid == (8, 8, 12)
    config, samples, x = prepare(result.config, data, torch.device("cpu"))
    np.testing.assert_allclose(samples.integrals_uB[:, 0, 0], samples.y, atol=1e-5)  # uB
    train, _ = development_splits(samples.composites, samples.y, samples.test,
                                  classification=False, seed=config.seed, folds=2)[0]
    mean, std = saved.target_scale
    assert mean == pytest.approx(samples.y[train].mean())  # the first fold's moments, uB
    assert std == pytest.approx(samples.y[train].std())
    every = np.arange(len(samples.y))
    member = new_member(config, x, samples.y, samples.grid, (train, every))
    member.model.load_state_dict(saved.model.state_dict())
    with torch.no_grad():
        expected = predict(config, member, x, every)[1]
    new = prediction_inputs(saved, data)
    assert new.samples.composites == samples.composites
    np.testing.assert_allclose(network_scores(saved, new.x), expected, rtol=1e-5, atol=1e-5)


def test_a_regression_model_file_without_its_target_scale_is_refused(moment_model, tmp_path):
    data, result, _ = moment_model
    old = tmp_path / "old.pt"
    save_model(result.state_dict, result.config, old)  # as written before the scale was kept
    saved = load_saved(old, grid=result.grid)
    assert saved.grid is None and saved.target_scale is None
    with pytest.raises(Refused, match="records no target scale"):
        network_scores(saved, prediction_inputs(saved, data, grid=result.grid).x)


@pytest.mark.parametrize("name, reason", [("CrVGe2Te6", ""), ("Cr2GeSiSe6", ""),
                                          ("Fe", "not A2B2X6"), ("CrXxGe2Te6", "not A2B2X6")])
def test_the_composition_baseline_says_which_names_it_cannot_read(name, reason):
    assert composition_reason(name) == reason
