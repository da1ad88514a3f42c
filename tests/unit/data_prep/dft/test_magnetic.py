"""Magnetic configurations: the intended sign pattern on the A honeycomb, per configuration."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.dft.magnetic import initial_moments, j1_bonds, parallel_counts, sign_pattern
from data_prep.dft.runs import RunSpec, build_atoms
from data_prep.dft.structures import Decoration, a_site_indices, prototype, rectangular

CGT = Decoration("Cr", "Cr", "Ge", "Ge", "Te")


@pytest.mark.parametrize(
    ("config", "parallel"), [("FM", 3), ("AFM-Neel", 0), ("AFM-zigzag", 2), ("AFM-stripy", 1)]
)
def test_patterns_in_rectangular_cell(config, parallel):
    rect = rectangular(CGT)
    sites = a_site_indices(rect)
    signs = sign_pattern(rect, sites, config)
    assert np.all(parallel_counts(signs, j1_bonds(rect, sites)) == parallel)
    assert signs.sum() == (4 if config == "FM" else 0)


def test_each_a_has_three_j1_neighbours():
    for atoms in (prototype(CGT), rectangular(CGT)):
        sites = a_site_indices(atoms)
        assert np.all(parallel_counts(np.ones(len(sites)), j1_bonds(atoms, sites)) == 3)


def test_zigzag_does_not_fit_the_hexagonal_cell():
    atoms = prototype(CGT)
    with pytest.raises(ValueError, match="does not fit"):
        sign_pattern(atoms, a_site_indices(atoms), "AFM-zigzag")


def test_zigzag_chains_are_ferromagnetic_lines():
    """Zigzag: spins of equal sign form chains; the two chains of the cell are opposite."""
    rect = rectangular(CGT)
    sites = a_site_indices(rect)
    signs = sign_pattern(rect, sites, "AFM-zigzag")
    pos = rect.positions[sites]
    up, down = pos[signs > 0], pos[signs < 0]
    # along b (the long axis) the up chain and the down chain are separated
    assert abs(up[:, 1].mean() - down[:, 1].mean()) > 1.0


def test_initial_moments_nm_fm_neel_and_nonmagnetic_a2():
    dec = Decoration("Cr", "Cu", "Ge", "Ge", "Te")
    atoms = prototype(dec)
    sites = a_site_indices(atoms)
    assert not initial_moments(atoms, sites, "NM").any()
    fm = initial_moments(atoms, sites, "FM")
    neel = initial_moments(atoms, sites, "AFM-Neel")
    assert fm[0] == 3.0 and fm[1] == 1.0  # Cu still gets a seed moment
    assert neel[0] == 3.0 and neel[1] == -1.0
    assert not fm[2:].any()


def test_build_atoms_groups_species_and_keeps_moments_on_a_sites():
    atoms, moments = build_atoms(RunSpec(Decoration("Cr", "V", "Ge", "Si", "Te"), "AFM-zigzag"))
    symbols = atoms.get_chemical_symbols()
    assert symbols == ["Cr"] * 2 + ["V"] * 2 + ["Ge"] * 2 + ["Si"] * 2 + ["Te"] * 12
    assert moments[:4].tolist() == [3.0, -3.0, 2.0, -2.0]
    assert not moments[4:].any()
