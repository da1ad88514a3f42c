"""Attribution sanity checks that can fail (Integrated Gradients, the site partition, the files):
completeness, exactness on a linear model, a planted target the trained network must find and a
shuffled-label network must not, the model-randomisation check of Adebayo et al. 2018, and
translation equivariance of a circular network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from planted_sites import A_CELL, C_CELL, FRAC, GRID, PlantedSites

from models import explain as xp
from models.net import MagNet
from models.saved import save_model
from models.train import prepare, run_trial
from models.trial import TrialConfig

LATTICE = np.diag([A_CELL, A_CELL, C_CELL])
# a position-aware network (flattened features, weight decay): it can learn to ignore the A
# sites, which a globally pooled one, blind to where a blob sits, cannot
PLANTED = {"preset": "periodic-fast", "global_pool": False, "weight_decay": 1e-3, "epochs": 40,
           "folds": 0, "batch_size": 16, "lr": 0.02, "lr_schedule": "cosine",
           "input_units": "density"}


def _trained(shuffle: bool):
    data = PlantedSites(n=200, shuffle=shuffle)
    result = run_trial(PLANTED, data, device="cpu")
    config, samples, x = prepare(result.config, data, torch.device("cpu"))
    model = MagNet(config.model_config(), samples.grid)
    model.load_state_dict(result.state_dict)
    return data, result, config, x[torch.as_tensor(np.flatnonzero(samples.test))], model.eval()


@pytest.fixture(scope="module")
def planted():
    return _trained(shuffle=False)


@pytest.fixture(scope="module")
def shuffled():
    return _trained(shuffle=True)


def _x_share_of_positive(model, config, x) -> float:
    attr, _ = xp.integrated_gradients(xp.scalar_output(model, config, None), x, steps=64)
    a = np.clip(attr.sum(1).numpy(), 0.0, None)  # (B, Nx, Ny, Nz) positive attribution
    on_x = np.isin(xp.site_regions(LATTICE, FRAC, GRID), np.arange(4, 10))
    return float(a[:, on_x].sum() / a.sum())


def test_the_site_partition_gives_each_atom_its_own_voxel_and_leaves_vacuum_far_away():
    regions = xp.site_regions(LATTICE, FRAC, GRID)
    for i, f in enumerate(FRAC):
        assert regions[tuple(np.round(f * GRID).astype(int) % GRID)] == i
    assert regions[0, 0, 0] == xp.VACUUM  # 8 A above the slab
    assert (regions == xp.INTERSTITIAL).any()
    # a hexagonal cell: the nearest image of a voxel near the obtuse corner is across the cell
    hexagonal = np.array([[6.0, 0, 0], [-3.0, 3 * 3**0.5, 0], [0, 0, 16.0]])
    one = xp.site_regions(hexagonal, np.array([[0.0, 0.0, 0.5]]), (12, 12, 16),
                          site_radius=10.0, vacuum_radius=10.0)
    assert (one[:, :, 8] == 0).all()  # every in-plane voxel lies within 10 A of some image


def test_integrated_gradients_of_a_linear_model_are_exactly_weight_times_input():
    torch.manual_seed(0)
    w, x = torch.randn(1, 2, *GRID), torch.randn(3, 2, *GRID)

    def linear(t: torch.Tensor) -> torch.Tensor:
        return (w * t).sum(dim=(1, 2, 3, 4)) + 0.7

    attr, delta = xp.integrated_gradients(linear, x, steps=8)
    torch.testing.assert_close(attr, w * x, rtol=1e-5, atol=1e-6)
    assert float(delta.abs().max()) < 1e-3


def test_attributions_sum_to_the_output_change_within_one_percent(planted):
    _, result, config, x, model = planted
    fn = xp.scalar_output(model, config, result.target_scale)
    attr, delta = xp.integrated_gradients(fn, x, steps=64)
    with torch.no_grad():
        change = fn(x) - fn(torch.zeros_like(x))
    total = attr.sum(dim=(1, 2, 3, 4))
    torch.testing.assert_close(total - change, delta, rtol=1e-4, atol=1e-4)
    assert float((delta.abs() / change.abs()).max()) <= 0.01


def test_a_network_trained_on_a_planted_x_site_label_looks_at_the_x_sites(planted, shuffled):
    _, result, config, x, model = planted
    assert result.history[-1]["val_balanced_accuracy"] >= 0.95  # it learned the label
    assert _x_share_of_positive(model, config, x) >= 0.8
    _, bad, config_s, x_s, model_s = shuffled
    assert bad.history[-1]["val_balanced_accuracy"] <= 0.75  # nothing to learn
    assert _x_share_of_positive(model_s, config_s, x_s) < 0.8


def test_the_map_of_a_randomized_network_does_not_resemble_the_trained_one(planted):
    _, _, config, x, model = planted
    trained, _ = xp.integrated_gradients(xp.scalar_output(model, config, None), x, steps=32)
    random, _ = xp.integrated_gradients(
        xp.scalar_output(xp.randomized_copy(model), config, None), x, steps=32)
    rho = [xp.spearman(trained[i].sum(0).numpy(), random[i].sum(0).numpy())
           for i in range(len(x))]
    assert max(rho) < 0.5
    assert torch.equal(xp.randomized_copy(model).input_scale, model.input_scale)


def test_rolling_the_input_by_whole_strides_rolls_the_map_of_a_circular_network():
    cfg = TrialConfig.from_dict({"preset": "periodic-fast"})  # circular, stride 4, global mean
    torch.manual_seed(3)
    model = MagNet(cfg.model_config(), GRID).eval()
    x = torch.as_tensor(np.stack([PlantedSites(n=2).spin(f"{c}/FM") for c in
                                  PlantedSites(n=2).labels["composite"]]))
    x = torch.stack([x.clamp(min=0), (-x).clamp(min=0)], dim=1)
    fn = xp.scalar_output(model, cfg, None)
    attr, _ = xp.integrated_gradients(fn, x, steps=16)
    rolled, _ = xp.integrated_gradients(fn, torch.roll(x, shifts=(4, 8), dims=(2, 3)), steps=16)
    torch.testing.assert_close(rolled, torch.roll(attr, shifts=(4, 8), dims=(2, 3)),
                               rtol=1e-4, atol=1e-6)


def test_the_written_maps_read_back_with_pymatgen_and_integrate_to_the_table(planted, tmp_path):
    from pymatgen.io.common import VolumetricData
    from pymatgen.io.vasp import Chgcar

    from search.evaluation.explain import explain
    from search.evaluation.predict import file_model

    data, result, _, _, _ = planted
    path = tmp_path / "model.pt"
    save_model(result.state_dict, result.config, path, grid=result.grid)
    out = explain(file_model(path), data, ["Cr2Ge2Te6", "CrVGe2Te6"], tmp_path / "ex", steps=16)
    assert [c.composite for c in out.composites] == ["Cr2Ge2Te6", "CrVGe2Te6"]
    folder = tmp_path / "ex" / "CrVGe2Te6"
    table = pd.read_csv(folder / "sites.csv")
    assert list(table["role"][:10]) == ["A1", "A2", "B", "B", *["X"] * 6]
    assert table["share"].sum() == pytest.approx(1.0)
    chg = Chgcar.from_file(str(folder / "attribution.CHGCAR"))
    from pymatgen.core import Composition

    assert chg.structure.composition == Composition("CrVGe2Te6")
    total = chg.data["total"].sum() / chg.data["total"].size
    assert total == pytest.approx(table["attribution"].sum(), rel=1e-6, abs=1e-9)
    assert total == pytest.approx(out.composites[1].attribution_sum, rel=1e-6, abs=1e-9)
    cube = VolumetricData.from_cube(str(folder / "attribution.cube"))
    cube_total = cube.data["total"].sum() * cube.structure.volume / cube.data["total"].size
    assert cube_total == pytest.approx(total, rel=1e-4, abs=1e-6)
    density = Chgcar.from_file(str(folder / "density.CHGCAR"))
    moment = density.data["total"].sum() / density.data["total"].size
    assert moment == pytest.approx(table["density"].sum(), rel=1e-6, abs=1e-6)
    assert (folder / "planes.png").stat().st_size > 10_000
    assert Path(tmp_path / "ex" / "explain.json").is_file()


def test_a_hybrid_network_is_explained_with_its_composition_held_fixed(tmp_path):
    from search.evaluation.explain import explain
    from search.evaluation.predict import file_model

    data = PlantedSites(n=40)
    result = run_trial({**PLANTED, "head": "hybrid", "epochs": 3}, data, device="cpu")
    path = tmp_path / "hybrid.pt"
    save_model(result.state_dict, result.config, path, grid=result.grid)
    out = explain(file_model(path), data, ["CrVGe2Te6", "CrMnSi2Te6"], tmp_path / "ex",
                  steps=32, files=False)
    for c in out.composites:  # the density part: its attributions sum to f(x) - f(0)
        assert c.output != c.baseline_output
        assert c.attribution_sum == pytest.approx(c.output - c.baseline_output, rel=0.05)
