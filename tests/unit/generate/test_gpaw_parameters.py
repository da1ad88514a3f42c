"""GPAW parameters: parsing, defaults for old records, and the gentler mixer reaching GPAW."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.gpaw_engine import GpawParameters, run_gpaw


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
