"""Augmentation by the crystal's exact symmetries (models.augment), on real densities.

Every operation is a permutation of grid points, so it keeps the integral (electron count) and the
moment exactly; the operations found for real cells are true symmetries of their densities (bcc Fe
is invariant under all 48 operations of its cubic lattice); a circular, globally pooled network
gives the same output for a translated crystal.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data_prep.dataset.store import open_dataset
from data_prep.io.chgcar import read_chgcar
from models.augment import (
    Augmenter,
    AugmentError,
    apply_operation,
    operations_for,
    point_operations,
)
from models.presets import create_model


@pytest.fixture(scope="module")
def cgt(bundled_dataset):
    """Cr2Ge2Te6 FM from the bundled dataset: density (60, 60, 120) uB/A^3, lattice, moment."""
    ds = open_dataset(bundled_dataset)
    row = ds.index[(ds.index.composite == "Cr2Ge2Te6") & (ds.index.configuration == "FM")].iloc[0]
    lattice = np.asarray(row["lattice_A"], dtype=float).reshape(3, 3)
    return ds.spin(row["sample_id"]).astype(np.float64), lattice, float(row["moment_uB"])


def _moment(m: np.ndarray, lattice: np.ndarray) -> float:
    return float(m.sum() * abs(np.linalg.det(lattice)) / m.size)


def test_hexagonal_cell_has_the_24_operations_of_6_mmm(cgt):
    m, lattice, _ = cgt
    ops = point_operations(lattice, m.shape)
    assert len(ops) == 24
    rotations = operations_for("rotate", lattice[None], m.shape)
    assert len(rotations) == 6  # C6 about c: 0, 60, ..., 300 degrees
    c3 = np.array([[0, -1, 0], [1, -1, 0], [0, 0, 1]])  # (u, v) -> (-v, u - v): 120 degrees
    assert any((op == c3).all() for op in rotations)
    # on a grid with Na != Nb the 120-degree rotation is not an index permutation
    assert not any((op == c3).all() for op in point_operations(lattice, (60, 64, 120)))


def test_every_operation_keeps_integral_and_moment_of_a_real_density(cgt):
    m, lattice, moment = cgt
    assert _moment(m, lattice) == pytest.approx(moment, abs=1e-4)  # the stored label
    for op in point_operations(lattice, m.shape):
        out = apply_operation(m, op)
        assert np.array_equal(np.sort(out.ravel()), np.sort(m.ravel()))  # a permutation
        assert _moment(out, lattice) == pytest.approx(_moment(m, lattice), rel=1e-12)
    shifted = np.roll(m, (17, 41), axis=(0, 1))
    assert _moment(shifted, lattice) == pytest.approx(moment, abs=1e-4)


def test_operations_are_true_symmetries_of_bcc_iron(real):
    vol = read_chgcar(real / "Fe_bcc_prim_spin.CHGCAR")
    m = vol.magnetization_uB_per_A3.astype(np.float64)
    total = vol.total_e_per_A3.astype(np.float64)
    ops = point_operations(vol.structure.lattice.matrix, m.shape)
    assert len(ops) == 48  # m-3m on the 28^3 grid of the primitive bcc cell
    noise = np.random.default_rng(0).standard_normal(m.shape)
    for op in ops:
        assert np.abs(apply_operation(m, op) - m).max() < 1e-4 * np.abs(m).max()
        assert np.abs(apply_operation(total, op) - total).max() < 1e-4 * total.max()
    moved = [np.abs(apply_operation(noise, op) - noise).max() for op in ops
             if not (op == np.eye(3)).all()]
    assert min(moved) > 1.0  # the check would catch an operation that is not a symmetry


def test_a_cell_without_the_rotation_is_refused():
    tilted = np.array([[5.0, 0, 0], [0, 6.0, 0], [1.0, 0.5, 20.0]])  # c not normal to (a, b)
    with pytest.raises(AugmentError, match="no rotation about c"):
        operations_for("rotate", tilted[None], (20, 24, 60))
    with pytest.raises(AugmentError, match="not one of"):
        operations_for("mirror", tilted[None], (20, 24, 60))


def test_augmenter_permutes_each_sample(cgt):
    m, lattice, _ = cgt
    x = torch.from_numpy(np.stack([m, -m]).astype(np.float32))[None].repeat(3, 1, 1, 1, 1)
    aug = Augmenter("symmetry", lattice[None], m.shape)
    out = aug(x, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and not torch.equal(out, x)
    for a, b in zip(out, x, strict=True):
        assert torch.equal(a.flatten().sort().values, b.flatten().sort().values)


def test_circular_global_pooled_model_ignores_a_translation(cgt):
    m, _, _ = cgt
    torch.manual_seed(0)
    model = create_model("periodic", grid=m.shape).double().eval()
    x = torch.from_numpy(np.stack([np.maximum(m, 0), np.maximum(-m, 0)]))[None]
    with torch.no_grad():
        y = model(x)
        y_shifted = model(torch.roll(x, shifts=(13, 29), dims=(-3, -2)))
    assert torch.allclose(y, y_shifted, rtol=1e-9, atol=1e-12)
