"""The embedded DFT engine end to end, with the real GPAW: magvox generate -> magvox prep.

Fast settings (single-zeta basis, h = 0.3 A, 2x2x1 k-points) keep each SCF to ~15 s; the physics
still holds: Cr2Ge2Te6 is a 6 uB ferromagnet with FM below Neel AFM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from data_prep.dft.magnetic import RECTANGULAR

pytestmark = pytest.mark.gpaw

FAST = ["--set", "basis=sz(dzp)", "--set", "h=0.3", "--set", "kpts=2,2,1"]
CGT = ["--a2", "Cr", "--b", "GeGe", "--x", "Te"]
CONFIGS = ["NM", "FM", "AFM-Neel", "AFM-zigzag", "AFM-stripy"]


def magvox(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "GPAW_SETUP_PATH": os.environ.get("GPAW_SETUP_PATH",
                                                          "/usr/share/gpaw-setups")}  # fmt: skip
    cmd = [sys.executable, "-m", "search.commands.cli", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    if check and res.returncode != 0:
        raise AssertionError(f"{cmd} -> {res.returncode}\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    magvox("generate", "--out", str(root), *CGT, "--configs", *CONFIGS, *FAST, "--num-cpus", "2")
    return root


def record(root: Path, config: str) -> dict:
    return json.loads((root / "Cr2Ge2Te6" / config / "magvox_run.json").read_text())


def test_all_runs_converged_with_their_parameters_recorded(campaign):
    for config in CONFIGS:
        rec = record(campaign, config)
        assert rec["status"] == "ok", rec.get("reason")
        assert rec["parameters"]["basis"] == "sz(dzp)" and rec["parameters"]["h"] == 0.3
        assert rec["engine_version"].startswith("gpaw")
        cells = 2 if config in RECTANGULAR else 1  # the rectangular cell is two 10-atom cells
        assert rec["electrons_integrated"] == pytest.approx(56 * cells)


def test_cr2ge2te6_is_a_6_uB_ferromagnet_below_neel(campaign):
    """Energies are compared within one cell and k-mesh (the 10-atom cell: NM, FM, Neel)."""
    fm, neel, nm = (record(campaign, c) for c in ("FM", "AFM-Neel", "NM"))
    assert fm["moment_uB"] == pytest.approx(6.0, abs=0.1)
    assert neel["moment_uB"] == pytest.approx(0.0, abs=0.01)
    assert fm["energy_eV"] < neel["energy_eV"] < nm["energy_eV"]
    for config in RECTANGULAR:  # zero net moment, twice the cell
        assert record(campaign, config)["moment_uB"] == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize(
    ("config", "signs"),
    [("FM", [1, 1]), ("AFM-Neel", [1, -1]), ("AFM-zigzag", [1, 1, -1, -1]),
     ("AFM-stripy", [1, -1, -1, 1])],
)  # fmt: skip
def test_sign_pattern_on_a_sites(campaign, config, signs):
    rec = record(campaign, config)
    cr = [m for m, s in zip(rec["site_moments_uB"], rec["symbols"], strict=True) if s == "Cr"]
    assert np.sign(cr).tolist() == signs
    assert min(abs(m) for m in cr) > 2.0  # Cr3+: ~3 uB, reduced by the PAW sphere


def test_written_chgcar_integrates_to_gpaw_moment(campaign):
    from data_prep.io.volumetric import read_volumetric

    for config in ("FM", "AFM-Neel", "AFM-stripy"):
        rec = record(campaign, config)
        vol = read_volumetric(campaign / "Cr2Ge2Te6" / config / "CHGCAR")
        assert vol.spin_kind == "collinear"
        assert vol.moment() == pytest.approx(rec["moment_uB"], abs=0.01)
        assert vol.electrons() == pytest.approx(rec["electrons_integrated"], rel=1e-6)
    fm = read_volumetric(campaign / "Cr2Ge2Te6" / "FM" / "CHGCAR")
    assert fm.abs_moment() > fm.moment() > 5.9  # Te carries a small opposite moment


def test_prep_turns_the_runs_into_a_labelled_dataset(campaign, tmp_path):
    ds = tmp_path / "ds.zarr"
    magvox("prep", str(campaign), "--out", str(ds))
    info = json.loads(magvox("info", str(ds), "--json").stdout)
    assert info["samples"] == len(CONFIGS)
    from data_prep.dataset.store import open_dataset

    data = open_dataset(ds)
    labels = data.labels.set_index("composite").loc["Cr2Ge2Te6"]
    assert labels["ground_state"] == 1  # FM below AFM
    assert labels["moment_uB"] == pytest.approx(6.0, abs=0.1)
    assert labels["exchange_energy_eV"] > 0
    fm = data.index[data.index["configuration"] == "FM"].iloc[0]
    spin = data.spin(fm["sample_id"])
    assert spin.shape == (60, 60, 120)
    assert spin.sum() * fm["volume_A3"] / spin.size == pytest.approx(fm["moment_uB"], rel=1e-3)


def test_generate_reproduces_a_run_from_its_record(campaign, tmp_path):
    src = campaign / "Cr2Ge2Te6" / "FM" / "magvox_run.json"
    magvox("generate", "--from", str(src), "--out", str(tmp_path), "--num-cpus", "1")
    again = json.loads((tmp_path / "Cr2Ge2Te6" / "FM" / "magvox_run.json").read_text())
    first = json.loads(src.read_text())
    assert again["parameters"] == first["parameters"]
    assert again["energy_eV"] == pytest.approx(first["energy_eV"], abs=1e-3)


def test_killed_campaign_resumes_with_only_the_missing_runs(tmp_path):
    args = ["generate", "--out", str(tmp_path), *CGT, "--configs", "FM", "AFM-Neel", "NM", *FAST,
            "--num-cpus", "1"]  # fmt: skip
    env = {**os.environ, "GPAW_SETUP_PATH": "/usr/share/gpaw-setups"}
    proc = subprocess.Popen([sys.executable, "-m", "search.commands.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    first = None
    deadline = time.time() + 300
    while first is None and time.time() < deadline:
        time.sleep(1)
        done = list(tmp_path.glob("Cr2Ge2Te6/*/magvox_run.json"))
        first = done[0] if done else None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first is not None, "no run finished within 300 s"
    finished = {p.parent.name for p in tmp_path.glob("Cr2Ge2Te6/*/magvox_run.json")}
    stamp = {c: (tmp_path / "Cr2Ge2Te6" / c / "magvox_run.json").stat().st_mtime for c in finished}
    res = magvox(*args)
    assert f"{len(finished)} finished, {3 - len(finished)} to do" in res.stdout
    for c, mtime in stamp.items():  # finished runs were not redone
        assert (tmp_path / "Cr2Ge2Te6" / c / "magvox_run.json").stat().st_mtime == mtime
    assert {p.parent.name for p in tmp_path.glob("Cr2Ge2Te6/*/magvox_run.json")} == {
        "FM", "AFM-Neel", "NM"}  # fmt: skip
    assert not list(tmp_path.glob("Cr2Ge2Te6/.*tmp*"))  # interrupted work was replaced
    assert "0 to do" in magvox(*args).stdout


def test_optional_relaxation_lowers_energy_and_records_forces(campaign, tmp_path):
    magvox("generate", "--out", str(tmp_path), *CGT, "--configs", "FM", *FAST,
           "--set", "relax_fmax=0.05", "--set", "relax_steps=3", "--num-cpus", "1")  # fmt: skip
    rec = json.loads((tmp_path / "Cr2Ge2Te6" / "FM" / "magvox_run.json").read_text())
    assert rec["status"] == "ok" and rec["parameters"]["relax_fmax"] == 0.05
    assert 1 <= rec["relax_steps_taken"] <= 3 and rec["max_force_eV_per_A"] > 0
    assert rec["energy_eV"] < record(campaign, "FM")["energy_eV"]  # same settings, relaxed
    from pymatgen.core import Structure

    moved = Structure.from_file(tmp_path / "Cr2Ge2Te6" / "FM" / "POSCAR")
    start = Structure.from_file(campaign / "Cr2Ge2Te6" / "FM" / "POSCAR")
    assert moved.lattice == start.lattice  # cell fixed
    assert not np.allclose(moved.cart_coords, start.cart_coords, atol=1e-4)  # atoms moved
