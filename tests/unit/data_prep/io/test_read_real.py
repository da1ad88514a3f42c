"""Every real file in ../shared/data/real reads with the README's electrons and moments, and
says None for what a file does not hold."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.io.chgcar import write_chgcar
from data_prep.io.volumetric import read_volumetric

# file, format, grid, spin kind, formula, electrons, moment, abs_moment: each figure the README's
# (asserted at its printed precision), MEASURED[...] where the file holds the quantity but the
# README gives no figure, or None where the file holds no such quantity (no spin block; a
# potential or ELF is no density, so it integrates to nothing) and the reader must say None.
# MEASURED: sum of the block / Ngrid, as the README computes its figures, taken with this reader
# when the row was written: a regression figure (a reader that changes it fails), not a README one.
MEASURED = {
    "Fe_spin |m|": "2.463",
    "Li_spin |m|": "0.0203",  # = -moment: the magnetization is nowhere positive
    "Co |m|": "0.5694", "Co m": "0.5681",  # a truncated grid (the README: not physical)
    "H2O valence": "14.456",  # 6.62 e in the one voxel on the O nucleus: see test below
    "cp2k": "89.210",
}
CASES = [
    ("Fe_bcc_prim_spin.CHGCAR", "CHGCAR", (28, 28, 28), "collinear", "Fe1", "8.000", "2.27",
     MEASURED["Fe_spin |m|"]),
    ("Fe_bcc_prim_nospin.CHGCAR", "CHGCAR", (28, 28, 28), "none", "Fe1", "8.000", None, None),
    ("NiO_SOC_AFM_grid28.CHGCAR.gz", "CHGCAR", (28, 28, 28), "noncollinear", "Ni2 O2", "44.000",
     "0.00", "3.56"),
    ("Li_spin_grid48.CHGCAR.gz", "CHGCAR", (48, 48, 48), "collinear", "Li1", "1.000", "-0.020",
     MEASURED["Li_spin |m|"]),
    ("Li_nospin_grid32.CHGCAR.gz", "CHGCAR", (32, 32, 32), "none", "Li1", "1.000", None, None),
    ("Fe2_bcc_cubic_nospin_fulljob/CHGCAR", "CHGCAR", (28, 28, 28), "none", "Fe2", "16.000", None,
     None),
    ("VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz", "CHGCAR", (32, 60, 90), "none", None,
     "32.000", None, None),
    ("format_fixtures/Co_monolayer_TRUNCATED_spin.CHGCAR", "CHGCAR", (4, 4, 6), "collinear", "Co1",
     "0.38", MEASURED["Co m"], MEASURED["Co |m|"]),
    ("H2O_box_nospin.AECCAR2", "AECCAR", (20, 20, 20), "none", "H2 O1", MEASURED["H2O valence"],
     None, None),
    ("MgSi_vasp642_hashed_species.LOCPOT.gz", "LOCPOT", (2, 2, 5), "none", "Mg2 Si4", None, None,
     None),
    ("GaN_wurtzite_hex.LOCPOT.gz", "LOCPOT", (56, 56, 96), "none", "Ga2 N2", None, None, None),
    ("C4_graphite_lefthanded_spin.ELFCAR.gz", "ELFCAR", (18, 18, 70), "collinear", "C4", None,
     None, None),
    ("Ca2N_total_density.cube.gz", "cube", (60, 60, 60), "none", "Ca2 N1", "25.000", None, None),
    ("cp2k_total_density.cube.gz", "cube", (23, 23, 24), "none", "Cr4 O5", MEASURED["cp2k"], None,
     None),
]


def _matches(value: float | None, expected: str | None) -> bool:
    """None expected: the reader must give None (the file holds no such quantity). A figure:
    equal at its printed precision (and to 1e-3 relative if finer)."""
    if expected is None:
        return value is None
    digits = len(expected.split(".")[1]) if "." in expected else 0
    tolerance = max(0.5 * 10.0**-digits, 1e-3 * abs(float(expected)))
    return value is not None and abs(value - float(expected)) <= tolerance


def test_matches_fails_on_a_wrong_or_missing_figure():
    assert _matches(8.0004, "8.000") and not _matches(8.01, "8.000")
    assert not _matches(None, "8.000") and not _matches(0.0, None) and _matches(None, None)


@pytest.mark.parametrize(("name", "fmt", "grid", "kind", "formula", "electrons", "moment",
                          "abs_m"), CASES)
def test_real_file(real, name, fmt, grid, kind, formula, electrons, moment, abs_m):
    vol = read_volumetric(real / name)
    assert (vol.format, vol.grid, vol.spin_kind, vol.formula) == (fmt, grid, kind, formula)
    assert vol.total_e_per_A3.shape == grid and np.isfinite(vol.total_e_per_A3).all()
    assert (vol.magnetization_uB_per_A3 is None) == (kind == "none")
    assert _matches(vol.electrons(), electrons), vol.electrons()
    assert _matches(vol.moment(), moment), vol.moment()
    assert _matches(vol.abs_moment(), abs_m), vol.abs_moment()
    assert len(vol.sha256) == 64 and vol.volume_A3 > 0


def test_aeccar2_holds_the_8_valence_electrons_of_h2o_but_the_voxel_on_o(real):
    """The all-electron valence density peaks on the O nucleus, which sits on grid point
    (0, 0, 0) of the 0.5 A grid: that voxel alone counts 6.6 e; the rest integrate to the 8
    valence electrons of H2O less the part near the nucleus (7.83). The core density (AECCAR0)
    lies all in that voxel."""
    vol = read_volumetric(real / "H2O_box_nospin.AECCAR2")
    rho, dv = vol.total_e_per_A3, vol.volume_A3 / vol.total_e_per_A3.size
    assert vol.volume_A3 == pytest.approx(1000.0) and vol.structure[2].species_string == "O"
    assert np.allclose(vol.structure[2].frac_coords, 0.0)
    assert np.unravel_index(rho.argmax(), rho.shape) == (0, 0, 0)
    assert (rho.sum() - rho[0, 0, 0]) * dv == pytest.approx(8.0, abs=0.2)
    core = read_volumetric(real / "H2O_box_nospin.AECCAR0").total_e_per_A3  # O 1s
    assert 1.5e6 < core.max() * vol.volume_A3 < 2.5e6  # the README's "core spike of 2e6" (rho V)
    assert np.unravel_index(core.argmax(), core.shape) == (0, 0, 0)
    assert (core.sum() - core[0, 0, 0]) * dv < 0.01  # nothing of the core off the nucleus


def test_electrons_to_1e3_relative(real):
    """Charge is conserved in these files: integral = NELECT to 1e-3 relative (and better)."""
    for name, nelect in [("Fe_bcc_prim_spin.CHGCAR", 8), ("NiO_SOC_AFM_grid28.CHGCAR.gz", 44),
                         ("VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz", 32),
                         ("Fe2_bcc_cubic_nospin_fulljob/CHGCAR", 16)]:
        assert read_volumetric(real / name).electrons() == pytest.approx(nelect, rel=1e-5)


def test_header_variants(real):
    assert read_volumetric(real / "VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz").formula is None
    assert read_volumetric(real / "MgSi_vasp642_hashed_species.LOCPOT.gz").formula == "Mg2 Si4"
    nio = read_volumetric(real / "NiO_SOC_AFM_grid28.CHGCAR.gz")  # scale factor 4.17
    assert nio.lattice[0, 0] == pytest.approx(4.17) and nio.formula == "Ni2 O2"
    elf = read_volumetric(real / "C4_graphite_lefthanded_spin.ELFCAR.gz")
    assert elf.lattice[2, 2] < 0 and elf.volume_A3 == pytest.approx(45.803, rel=1e-4)


def test_left_handed_lattice_uses_abs_det(real, tmp_path):
    """Flip c of the Fe cell (det < 0): volume, electrons and moment must not change sign."""
    vol = read_volumetric(real / "Fe_bcc_prim_spin.CHGCAR")
    flipped = vol.structure.copy()
    flipped.lattice = type(flipped.lattice)(vol.lattice * np.array([1.0, 1.0, -1.0])[:, None])
    out = write_chgcar(tmp_path / "CHGCAR", flipped, vol.total_e_per_A3,
                       vol.magnetization_uB_per_A3)
    left = read_volumetric(out)
    assert np.linalg.det(left.lattice) < 0
    assert left.electrons() == pytest.approx(vol.electrons(), rel=1e-9)
    assert left.moment() == pytest.approx(vol.moment(), rel=1e-9)


def test_noncollinear_components(real):
    path = real / "NiO_SOC_AFM_grid28.CHGCAR.gz"
    z, norm = read_volumetric(path), read_volumetric(path, magnetization="norm")
    assert z.magnetization_component == "z" and (norm.magnetization_uB_per_A3 >= 0).all()
    assert norm.moment() == pytest.approx(norm.abs_moment())
    assert abs(z.moment()) < 1e-3 < z.abs_moment()  # AFM: net ~0, |m_z| large


@pytest.mark.parametrize("name", ["Fe_bcc_prim_spin.CHGCAR", "NiO_SOC_AFM_grid28.CHGCAR.gz",
                                  "Li_nospin_grid32.CHGCAR.gz", "Ca2N_total_density.cube.gz"])
def test_write_read_round_trip_exact(real, tmp_path, name):
    """read -> write_chgcar -> read gives bit-identical arrays (11-digit VASP format)."""
    first = read_volumetric(real / name)
    out = write_chgcar(tmp_path / "CHGCAR", first.structure, first.total_e_per_A3,
                       first.magnetization_uB_per_A3)
    second = read_volumetric(out)
    again = read_volumetric(write_chgcar(tmp_path / "CHGCAR2", second.structure,
                                         second.total_e_per_A3, second.magnetization_uB_per_A3))
    assert np.array_equal(second.total_e_per_A3, again.total_e_per_A3)
    np.testing.assert_allclose(second.total_e_per_A3, first.total_e_per_A3, rtol=1e-10)
    if first.magnetization_uB_per_A3 is not None:
        assert np.array_equal(second.magnetization_uB_per_A3, again.magnetization_uB_per_A3)
        assert second.moment() == pytest.approx(first.moment(), rel=1e-9, abs=1e-12)
    assert second.structure.matches(first.structure) if first.species_known else True


def test_write_float64_exact(tmp_path, real):
    vol = read_volumetric(real / "Fe_bcc_prim_spin.CHGCAR")
    rng = np.random.default_rng(0)
    total, mag = rng.random(vol.grid), rng.normal(size=vol.grid)
    back = read_volumetric(write_chgcar(tmp_path / "CHGCAR", vol.structure, total, mag, digits=16))
    np.testing.assert_allclose(back.total_e_per_A3, total, rtol=1e-14)
    np.testing.assert_allclose(back.magnetization_uB_per_A3, mag, rtol=1e-13, atol=1e-15)
    assert back.spin_kind == "collinear"
