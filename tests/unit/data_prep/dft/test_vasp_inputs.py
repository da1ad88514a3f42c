"""Engine vasp: INCAR/KPOINTS/POSCAR per run, POTCAR from VASP_PP_PATH, the SLURM array script."""

from __future__ import annotations

import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from data_prep.dft.generate import specs_from_args
from data_prep.dft.vasp_inputs import magmom_string, write_vasp_campaign


def test_magmom_compression():
    assert magmom_string([3.0, 3.0, 0, 0, 0]) == "2*3.00 3*0.00"
    assert magmom_string([3.0, -3.0]) == "3.00 -3.00"


def test_campaign_inputs_parse_with_pymatgen(tmp_path, monkeypatch):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    specs = specs_from_args(
        ["Cr"], ["Cr"], ["GeSi"], ["Se"], ["NM", "FM", "AFM-Neel", "AFM-stripy"]
    )
    msg = write_vasp_campaign(specs, tmp_path, {"ENCUT": 450})
    assert "POTCAR not written" in msg and "VASP_PP_PATH" in msg
    run = tmp_path / "Cr2GeSiSe6"
    neel = Incar.from_file(run / "AFM-Neel" / "INCAR")
    assert neel["ISPIN"] == 2 and neel["LCHARG"] is True and neel["ENCUT"] == 450
    assert neel["MAGMOM"][:2] == [3.0, -3.0] and sum(neel["MAGMOM"]) == 0
    assert Incar.from_file(run / "NM" / "INCAR")["ISPIN"] == 1
    stripy = Poscar.from_file(run / "AFM-stripy" / "POSCAR").structure
    assert len(stripy) == 20 and stripy.composition["Cr"] == 4
    assert Kpoints.from_file(run / "AFM-stripy" / "KPOINTS").kpts[0] == (4, 2, 1)
    lines = (tmp_path / "runs.txt").read_text().split()
    assert lines[0] == "Cr2GeSiSe6/NM" and len(lines) == 4
    script = (tmp_path / "submit.sh").read_text()
    assert "#SBATCH --array=0-3" in script and "runs.txt" in script


def test_potcar_from_vasp_pp_path(tmp_path, monkeypatch):
    pp = tmp_path / "pp" / "potpaw_PBE"
    for name in ("Cr_pv", "Ge_d", "Te"):
        (pp / name).mkdir(parents=True)
        (pp / name / "POTCAR").write_text(f"PAW_PBE {name}\nEnd of Dataset\n")
    monkeypatch.setenv("VASP_PP_PATH", str(tmp_path / "pp"))
    specs = specs_from_args(["Cr"], ["Cr"], ["GeGe"], ["Te"], ["FM"])
    write_vasp_campaign(specs, tmp_path / "runs", {})
    potcar = (tmp_path / "runs" / "Cr2Ge2Te6" / "FM" / "POTCAR").read_text()
    assert [ln.split()[1] for ln in potcar.splitlines() if ln.startswith("PAW")] == [
        "Cr_pv", "Ge_d", "Te"]  # fmt: skip
    (pp / "Te" / "POTCAR").unlink()
    with pytest.raises(FileNotFoundError, match="Te"):
        write_vasp_campaign(specs, tmp_path / "runs2", {})
