"""Multi-task training (``aux_targets``): the network's extra outputs learn the auxiliary
labels, composites without one are left out of its loss, and bad values are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from magdata_fake import FakeDataset

from models.config import ConfigError
from models.member import aux_loss, standardise_columns
from models.net import MagNet
from models.train import prepare, run_trial
from models.trial import TrialConfig, validate


def test_the_auxiliary_outputs_learn_the_moment_beside_the_ground_state():
    data = FakeDataset(n_composites=24)
    settings = {"preset": "periodic-fast", "epochs": 15, "folds": 2, "lr": 0.01,
                "aux_targets": "moment", "aux_weight": 1.0}
    result = run_trial(settings, data, device="cpu")
    config, samples, x = prepare(result.config, data, torch.device("cpu"))
    assert samples.aux.shape == (24, 1)
    np.testing.assert_allclose(samples.aux[:, 0], data.labels.set_index("composite").loc[
        samples.composites, "moment_uB"])
    np.testing.assert_allclose(samples.integrals_uB[:, 0, 0], samples.aux[:, 0], atol=1e-5)
    model = MagNet(config.model_config(), samples.grid)
    model.load_state_dict(result.state_dict)
    model.eval()
    with torch.no_grad():
        acts = model.activations(x)
    assert acts["output"].shape == (24, 2) and acts["aux"].shape == (24, 1)
    r = np.corrcoef(acts["aux"][:, 0].numpy(), samples.aux[:, 0])[0, 1]
    assert r > 0.8  # the auxiliary output regresses the moment (FM 6 uB, AFM 3-4 uB)
    assert result.history[-1]["val_balanced_accuracy"] >= 0.9


def test_composites_without_an_auxiliary_label_are_left_out_of_its_loss():
    values = np.array([[1.0, np.nan], [3.0, np.nan], [np.nan, np.nan], [5.0, 2.0]])
    z = standardise_columns(values, np.arange(4))
    np.testing.assert_allclose(z[[0, 1, 3], 0], [-1.224745, 0.0, 1.224745], rtol=1e-5)
    assert np.isnan(z[2, 0]) and np.isnan(z[0, 1]) and z[3, 1] == 0.0  # one label: std 1
    target = torch.tensor(z, dtype=torch.float32)
    pred = torch.zeros(4, 2)
    expected = float(np.mean(z[[0, 1, 3], 0] ** 2))  # column 1's single label is 0 -> 0
    assert float(aux_loss(pred, target)) == pytest.approx(expected, rel=1e-5)
    assert float(aux_loss(pred, torch.full((4, 2), float("nan")))) == 0.0


@pytest.mark.parametrize(("aux", "message"), [
    ("ground_state", "regression targets joined by '\\+'"),
    ("moment+moment", "each once"),
    ("exchange_energy", "exchange_energy is the main target already"),
])
def test_bad_auxiliary_targets_are_refused_naming_the_field(aux, message):
    config = TrialConfig.from_dict({"preset": "periodic-fast", "target": "exchange_energy",
                                    "aux_targets": aux})
    with pytest.raises(ConfigError, match=f"aux_targets: .*{message}"):
        validate(config, (8, 8, 12))
    with pytest.raises(ConfigError, match="aux_weight"):
        validate(TrialConfig.from_dict({"preset": "periodic-fast", "aux_targets": "moment",
                                        "aux_weight": 0.0}), (8, 8, 12))
