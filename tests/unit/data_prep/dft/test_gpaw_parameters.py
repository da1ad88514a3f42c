"""GPAW parameters: parsing, defaults for old records, and the gentler mixer reaching GPAW."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.dft.gpaw_engine import GpawParameters, run_gpaw


def test_parameters_parse_and_reject_unknown_keys():
    p = GpawParameters.from_dict({"h": 0.25, "kpts": [2, 2, 1], "mixer_beta": 0.02})
    assert p.kpts == (2, 2, 1) and p.mixer_beta == 0.02 and p.basis == "dzp"
    assert GpawParameters.from_dict({}).as_dict() == GpawParameters().as_dict()
    with pytest.raises(ValueError, match="unknown GPAW parameter"):
        GpawParameters.from_dict({"mixing": 0.1})


def test_mixer_beta_reaches_gpaw_and_the_scf_still_converges(tmp_path):
    from ase.build import molecule

    atoms = molecule("O2")  # a triplet: 2 uB
    atoms.center(vacuum=2.5)
    atoms.pbc = True
    params = GpawParameters(basis="sz(dzp)", h=0.3, kpts=(1, 1, 1), mixer_beta=0.05)
    out = run_gpaw(atoms, np.array([1.0, 1.0]), params, tmp_path)
    log = (tmp_path / "gpaw.txt").read_text()
    assert "beta=0.05" in log and "nmaxold=8" in log
    assert out["converged"] and out["moment_uB"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("sets, expect", [
    ({"mixer_backend": "pulay", "mixer_beta": 0.02}, ["Pulay", "Linear mixing parameters: 0.02"]),
    ({"mixer_method": "difference"}, ["Method: dif", "Mixers B:", "Pratt-step length: 0.05"]),
    ({"mixer_method": "difference", "mixer_backend": "pulay"}, ["Method: dif", "Pulay"]),
], ids=["pulay", "difference", "difference-pulay"])
def test_mixer_backend_and_method_reach_gpaw_and_the_scf_converges(tmp_path, sets, expect):
    """Pulay's fixed fraction, and n and m mixed apart: what GPAW's own log reports using."""
    from ase.build import molecule

    atoms = molecule("O2")
    atoms.center(vacuum=2.5)
    atoms.pbc = True
    params = GpawParameters.from_dict({"basis": "sz(dzp)", "h": 0.3, "kpts": [1, 1, 1], **sets})
    out = run_gpaw(atoms, np.array([1.0, 1.0]), params, tmp_path)
    log = (tmp_path / "gpaw.txt").read_text()
    start = min(log.index(k) for k in ("MultiMixer", "density mixing") if k in log)
    setup = log[start:log.index("occupation numbers")]  # the mixer GPAW built, as it says
    for text in expect:
        assert text in setup, setup
    assert ("MSR1" in setup) == ("pulay" not in sets.values())
    assert out["converged"] and out["moment_uB"] == pytest.approx(2.0, abs=0.05)


def test_unknown_mixer_choices_are_refused():
    with pytest.raises(ValueError, match="mixer_method must be 'difference'"):
        GpawParameters.from_dict({"mixer_method": "sum"})
    with pytest.raises(ValueError, match="mixer_backend must be 'msr1' or 'pulay'"):
        GpawParameters.from_dict({"mixer_backend": "broyden"})


def test_plane_wave_mode_reaches_gpaw_and_gives_the_triplet(tmp_path):
    from ase.build import molecule

    atoms = molecule("O2")
    atoms.center(vacuum=2.5)
    atoms.pbc = True
    params = GpawParameters.from_dict({"mode": "pw", "ecut_eV": 300, "basis": "sz(dzp)",
                                       "kpts": [1, 1, 1]})
    out = run_gpaw(atoms, np.array([1.0, 1.0]), params, tmp_path)
    log = (tmp_path / "gpaw.txt").read_text()
    assert "mode=PW(ecut=300.0)" in log and "Cutoff: 300.0 eV" in log
    assert out["converged"] and out["moment_uB"] == pytest.approx(2.0, abs=0.05)
    with pytest.raises(ValueError, match="mode must be"):
        GpawParameters.from_dict({"mode": "fd"})


def test_geometry_from_takes_the_positions_of_the_fm_run(tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor

    from data_prep.dft.runs import RunSpec, build_atoms, positions_from
    from data_prep.dft.structures import Decoration

    spec = RunSpec(Decoration("Cr", "V", "Ge", "Ge", "Te"), "AFM-Neel", geometry="covalent")
    atoms, _ = build_atoms(spec)
    moved = atoms.copy()
    moved.positions[0] += [0.05, -0.02, 0.01]  # as a relaxation would
    fm = tmp_path / spec.decoration.name / "FM"
    fm.mkdir(parents=True)
    AseAtomsAdaptor.get_structure(moved).to(filename=str(fm / "POSCAR"), fmt="poscar")
    got = positions_from(tmp_path, spec, atoms)
    assert np.allclose(got.positions, moved.positions, atol=1e-5)
    assert got.get_chemical_symbols() == atoms.get_chemical_symbols()
    other = RunSpec(Decoration("Cr", "Ti", "Ge", "Ge", "Te"), "FM", geometry="covalent")
    with pytest.raises(FileNotFoundError, match="CrTiGe2Te6/FM/POSCAR does not exist"):
        positions_from(tmp_path, other, build_atoms(other)[0])
    AseAtomsAdaptor.get_structure(build_atoms(other)[0]).to(filename=str(fm / "POSCAR"),
                                                            fmt="poscar")
    with pytest.raises(ValueError, match="holds"):
        positions_from(tmp_path, spec, atoms)
