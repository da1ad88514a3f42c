"""The composition as a network input (head = hybrid | composition): the encoding holds the
formula's elements and their properties, a composition-only twin learns a label that only the
composition carries, a hybrid saved to disk predicts as it trained, and a missing encoding or a
bad head is refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from magdata_fake import FakeDataset

from models.composition import MAX_Z, PROPERTY_NAMES, ROLES, WIDTH, d_electrons, encode
from models.config import ConfigError
from models.member import new_member, predict
from models.net import MagNet
from models.predict import network_scores, prediction_inputs
from models.saved import load_saved, save_model
from models.split import development_splits
from models.train import prepare, run_trial
from models.trial import TrialConfig, validate


def test_the_encoding_counts_each_site_and_carries_the_elements_properties():
    enc = encode(["Cr2Ge2Te6", "CrVGeSiS6"])
    assert enc.shape == (2, WIDTH)
    counts = enc[:, : len(ROLES) * MAX_Z].reshape(2, len(ROLES), MAX_Z)
    # Cr2Ge2Te6: A1 Cr, A2 Cr, B Ge x2, X Te
    assert counts[0, 0, 23] == 1 and counts[0, 1, 23] == 1
    assert counts[0, 2, 31] == 2 and counts[0, 3, 51] == 1
    assert counts[0].sum() == 5
    # CrVGeSiS6: A2 V, B Ge and Si once each, X S
    assert counts[1, 1, 22] == 1 and counts[1, 2, 31] == 1 and counts[1, 2, 13] == 1
    assert counts[1, 3, 15] == 1
    props = enc[:, len(ROLES) * MAX_Z :].reshape(2, 5, len(PROPERTY_NAMES))
    d = PROPERTY_NAMES.index("d_electrons")
    assert props[1, :, d].tolist() == [5, 3, 10, 0, 0]  # Cr 3d5, V 3d3, Ge 3d10, Si, S
    assert props[0, 4, PROPERTY_NAMES.index("period")] == 5  # Te
    assert d_electrons("Te") == 10 and d_electrons("P") == 0


def test_a_name_not_of_the_a2b2x6_form_is_refused_by_name():
    with pytest.raises(ValueError, match="CrGeTe3"):
        encode(["CrGeTe3"])


def test_a_bad_head_is_refused_naming_the_field():
    config = TrialConfig.from_dict({"preset": "periodic-fast", "head": "mlp"})
    with pytest.raises(ConfigError, match="head: 'mlp' is not one of cnn, hybrid, composition"):
        validate(config, (8, 8, 12))


def test_a_network_that_reads_the_composition_refuses_to_run_without_it():
    cfg = TrialConfig.from_dict({"preset": "periodic-fast", "head": "hybrid"}).model_config()
    net = MagNet(cfg, (8, 8, 12))
    with pytest.raises(ValueError, match="composition encoding"):
        net(torch.zeros(2, 2, 8, 8, 12))
    twin = MagNet(cfg.replace(head="composition"), (8, 8, 12))
    assert len(twin.convs) == 0 and twin.filters().shape[0] == 0
    assert twin(torch.zeros(2, 2, 8, 8, 12), composition=torch.zeros(2, WIDTH)).shape == (2, 2)


class CompositionLabelled(FakeDataset):
    """72 composites whose label is the A2 element's d count <= 5 (Ti, V, Cr, Mn), a fact of
    the formula alone. The densities (FakeDataset's, each integrating to its moment label) carry
    no trace of it: their A2 moment follows the composite's place in the list (even: 3 uB, odd:
    0-1 uB), and each class holds 18 even places and 18 odd."""

    def __init__(self) -> None:
        super().__init__(n_composites=72)
        big_a2 = self.labels["moment_uB"] > 5.0
        a2 = [encode([c])[0, MAX_Z : 2 * MAX_Z].argmax() + 1 for c in self.labels["composite"]]
        self.labels["ground_state"] = [int(z <= 25) for z in a2]  # Ti 22 .. Mn 25
        assert pd.crosstab(self.labels["ground_state"], big_a2).eq(18).all().all()


SETTINGS = {"preset": "periodic-fast", "epochs": 15, "folds": 3, "lr": 0.01}


@pytest.mark.parametrize("head", ["composition", "hybrid"])
def test_a_head_that_reads_the_composition_learns_a_label_only_the_formula_carries(head):
    result = run_trial({**SETTINGS, "head": head}, CompositionLabelled(), device="cpu")
    assert result.history[-1]["val_balanced_accuracy"] >= 0.9


def test_a_saved_hybrid_predicts_as_it_was_trained(tmp_path):
    data = FakeDataset()
    result = run_trial({**SETTINGS, "head": "hybrid", "epochs": 2, "folds": 2}, data,
                       device="cpu")
    path = tmp_path / "model.pt"
    save_model(result.state_dict, result.config, path, grid=result.grid)
    saved = load_saved(path)
    assert saved.model.composition_std.shape == (WIDTH,)
    assert not torch.allclose(saved.model.composition_std, torch.ones(WIDTH))  # fitted
    config, samples, x = prepare(result.config, data, torch.device("cpu"))
    train, _ = development_splits(samples.composites, samples.y, samples.test,
                                  classification=True, seed=config.seed, folds=2)[0]
    every = np.arange(len(samples.y))
    comp = torch.as_tensor(encode(samples.composites))
    member = new_member(config, x, samples.y, samples.grid, (train, every), composition=comp)
    member.model.load_state_dict(saved.model.state_dict())
    with torch.no_grad():
        expected = predict(config, member, x, every)[1]
    new = prediction_inputs(saved, data)
    assert new.composition is not None
    np.testing.assert_allclose(network_scores(saved, new.x, composition=new.composition),
                               expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="composition encoding"):
        network_scores(saved, new.x)
