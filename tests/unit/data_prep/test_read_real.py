"""Every real file in ../shared/data/real reads with the README's electrons and moments."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.chgcar import write_chgcar
from data_prep.volumetric import read_volumetric

# file, format, grid, spin kind, electrons, moment, abs_moment (README values; None = not given)
CASES = [
    ("Fe_bcc_prim_spin.CHGCAR", "CHGCAR", (28, 28, 28), "collinear", "8.000", "2.27", None),
    ("Fe_bcc_prim_nospin.CHGCAR", "CHGCAR", (28, 28, 28), "none", "8.000", None, None),
    ("NiO_SOC_AFM_grid28.CHGCAR.gz", "CHGCAR", (28, 28, 28), "noncollinear", "44.000", "0.00",
     "3.56"),
    ("Li_spin_grid48.CHGCAR.gz", "CHGCAR", (48, 48, 48), "collinear", "1.000", "-0.020", None),
    ("Li_nospin_grid32.CHGCAR.gz", "CHGCAR", (32, 32, 32), "none", "1.000", None, None),
    ("Fe2_bcc_cubic_nospin_fulljob/CHGCAR", "CHGCAR", (28, 28, 28), "none", "16.000", None, None),
    ("VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz", "CHGCAR", (32, 60, 90), "none", "32.000",
     None, None),
    ("format_fixtures/Co_monolayer_TRUNCATED_spin.CHGCAR", "CHGCAR", (4, 4, 6), "collinear",
     "0.38", None, None),
    ("H2O_box_nospin.AECCAR2", "AECCAR", (20, 20, 20), "none", None, None, None),
    ("MgSi_vasp642_hashed_species.LOCPOT.gz", "LOCPOT", (2, 2, 5), "none", None, None, None),
    ("GaN_wurtzite_hex.LOCPOT.gz", "LOCPOT", (56, 56, 96), "none", None, None, None),
    ("C4_graphite_lefthanded_spin.ELFCAR.gz", "ELFCAR", (18, 18, 70), "collinear", None, None,
     None),
    ("Ca2N_total_density.cube.gz", "cube", (60, 60, 60), "none", "25.000", None, None),
    ("cp2k_total_density.cube.gz", "cube", (23, 23, 24), "none", None, None, None),
]


def _matches(value: float | None, readme: str | None) -> bool:
    """Equal to the README's number at its printed precision (and to 1e-3 relative if finer)."""
    if readme is None:
        return True
    digits = len(readme.split(".")[1]) if "." in readme else 0
    tolerance = max(0.5 * 10.0**-digits, 1e-3 * abs(float(readme)))
    return value is not None and abs(value - float(readme)) <= tolerance


@pytest.mark.parametrize(("name", "fmt", "grid", "kind", "electrons", "moment", "abs_m"), CASES)
def test_real_file(real, name, fmt, grid, kind, electrons, moment, abs_m):
    vol = read_volumetric(real / name)
    assert (vol.format, vol.grid, vol.spin_kind) == (fmt, grid, kind)
    assert vol.total_e_per_A3.shape == grid and np.isfinite(vol.total_e_per_A3).all()
    assert _matches(vol.electrons(), electrons), vol.electrons()
    assert _matches(vol.moment(), moment), vol.moment()
    assert _matches(vol.abs_moment(), abs_m), vol.abs_moment()
    assert len(vol.sha256) == 64 and vol.volume_A3 > 0


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
