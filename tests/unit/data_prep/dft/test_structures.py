"""The decorated A2B2X6 prototype: stoichiometry, symmetry, distances, the rectangular cell."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from data_prep.dft.structures import (
    Decoration,
    a_site_indices,
    bond_lengths,
    decorations,
    prototype,
    rectangular,
    table1,
)

CGT = Decoration("Cr", "Cr", "Ge", "Ge", "Te")


def test_table1_has_165_composites_with_unique_names():
    decs = table1()
    assert len(decs) == 165
    assert len({d.name for d in decs}) == 165
    assert len(table1(x=("Te",))) == 55
    assert {d.a1 for d in decs} == {"Cr"}


@pytest.mark.parametrize(
    ("dec", "name"),
    [(CGT, "Cr2Ge2Te6"), (Decoration("Cr", "V", "Ge", "Si", "S"), "CrVGeSiS6"),
     (Decoration("Cr", "Y", "P", "P", "Se"), "CrYP2Se6")],
)  # fmt: skip
def test_composite_names(dec, name):
    assert dec.name == name


def test_unknown_element_is_a_clear_error():
    with pytest.raises(ValueError, match="Qq"):
        Decoration("Cr", "Qq", "Ge", "Ge", "Te")


@pytest.mark.parametrize("dec", [*table1()[::7], Decoration("Mn", "Fe", "Sn", "Sn", "I")])
def test_stoichiometry_and_minimum_distances(dec):
    atoms = prototype(dec)
    symbols = atoms.get_chemical_symbols()
    assert len(atoms) == 10
    assert symbols[:4] == [dec.a1, dec.a2, dec.b1, dec.b2] and symbols[4:] == [dec.x] * 6
    i, _, d = neighbor_list("ijd", atoms, 4.0)
    bonds = bond_lengths(dec)
    assert d.min() > 0.9 * min(bonds.values())  # nothing closer than the shortest intended bond
    a_x = d[np.isin(i, [0, 1])]
    assert np.allclose(np.sort(a_x)[:12], bonds["AX"], atol=1e-6)  # each A: 6 X at d_AX


def test_cr2ge2te6_reference_geometry_and_symmetry():
    atoms = prototype(CGT)
    assert atoms.cell.cellpar()[[0, 1, 5]] == pytest.approx([6.83, 6.83, 120.0])
    i, j, d = neighbor_list("ijd", atoms, 3.0)
    ge_ge = d[(i == 2) & (j == 3)]
    assert ge_ge == pytest.approx([2.47])
    ge_te = d[(i == 2) & (j >= 4)]
    assert ge_te == pytest.approx([2.59] * 3)
    sga = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=1e-3)
    assert sga.get_space_group_symbol() == "P-31m"  # the Cr2Ge2Te6 monolayer group
    # the two A sites are symmetry-equivalent, as are all six X
    eq = sga.get_symmetry_dataset().equivalent_atoms
    assert eq[0] == eq[1] and len(set(eq[4:])) == 1


def test_mixed_b_pair_breaks_inversion_only():
    atoms = prototype(Decoration("Cr", "Cr", "Ge", "Si", "Te"))
    sga = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=1e-3)
    assert sga.get_space_group_symbol() == "P31m"


def test_lattice_constant_follows_the_a_x_bond():
    small = prototype(Decoration("Cr", "Cr", "Ge", "Ge", "S")).cell.lengths()[0]
    large = prototype(Decoration("Cr", "Y", "Ge", "Ge", "Te")).cell.lengths()[0]
    assert small < 6.83 < large


def test_rectangular_cell_holds_four_a_sites():
    rect = rectangular(CGT)
    assert len(rect) == 20
    assert rect.cell.cellpar()[3:] == pytest.approx([90, 90, 90])
    assert rect.cell.lengths()[1] == pytest.approx(6.83 * np.sqrt(3))
    assert rect.get_volume() == pytest.approx(2 * prototype(CGT).get_volume())
    assert [rect[k].symbol for k in a_site_indices(rect)] == ["Cr"] * 4
    _, _, d = neighbor_list("ijd", rect, 4.0)
    assert d.min() == pytest.approx(2.47)


def test_decorations_product_order_is_stable():
    decs = decorations(["Cr"], ["V", "Mn"], [("Ge", "Ge")], ["S", "Te"])
    assert [d.name for d in decs] == ["CrVGe2S6", "CrMnGe2S6", "CrVGe2Te6", "CrMnGe2Te6"]
