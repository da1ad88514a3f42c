"""The J1-J3 Heisenberg mapping: bond sums of the patterns, exact recovery, labels and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep.analysis.exchange import bond_sums, fit_exchange, shell_distances
from data_prep.analysis.exchange_labels import J_CONFIGURATIONS, composite_exchange, exchange_table
from data_prep.dataset.labels import compute_labels
from data_prep.dft.magnetic import sign_pattern
from data_prep.dft.runs import RunSpec, build_atoms
from data_prep.dft.structures import Decoration, a_site_indices, prototype, rectangular
from data_prep.io.run_record import RUN_JSON

CGT = Decoration("Cr", "Cr", "Ge", "Ge", "Te")
# Sivadas et al. (2015): per A site the shell-n neighbours parallel minus antiparallel are
# FM (3, 6, 3), Neel (-3, 6, -3), zigzag (1, -2, -3), stripy (-1, -2, 3); 4 A per cell, pairs once.
PER_SITE = {"FM": (3, 6, 3), "AFM-Neel": (-3, 6, -3), "AFM-zigzag": (1, -2, -3),
            "AFM-stripy": (-1, -2, 3)}  # fmt: skip
TRUE_J = (2.71, -0.35, 0.48)  # meV
TRUE_E0 = -182.345  # eV per cell


def _sums(atoms, config: str) -> np.ndarray:
    sites = a_site_indices(atoms)
    return bond_sums(atoms, sites, sign_pattern(atoms, sites, config))


def _energy(sums: np.ndarray, spin: float = 1.5) -> float:
    return TRUE_E0 - spin**2 * float(np.dot(TRUE_J, sums)) * 1e-3


def test_shells_are_the_honeycomb_distances():
    atoms = rectangular(CGT)
    a = atoms.cell.lengths()[0]
    assert shell_distances(atoms, a_site_indices(atoms)) == pytest.approx(
        [a / np.sqrt(3), a, 2 * a / np.sqrt(3)])  # fmt: skip


@pytest.mark.parametrize("config", J_CONFIGURATIONS)
def test_bond_sums_in_the_rectangular_cell_are_the_infinite_patterns(config):
    assert _sums(rectangular(CGT), config).tolist() == [4 * n / 2 for n in PER_SITE[config]]


@pytest.mark.parametrize("config", ["FM", "AFM-Neel"])
def test_bond_sums_scale_with_the_cell(config):
    assert (2 * _sums(prototype(CGT), config)).tolist() == _sums(rectangular(CGT), config).tolist()


def test_synthetic_energies_give_back_the_couplings_exactly():
    atoms = rectangular(CGT)
    sums = np.array([_sums(atoms, c) for c in J_CONFIGURATIONS])
    fit = fit_exchange(np.array([_energy(s) for s in sums]), sums, spin=1.5)
    assert fit.j_meV == pytest.approx(TRUE_J, abs=1e-9)
    assert fit.e0_eV == pytest.approx(TRUE_E0, abs=1e-12)
    assert fit.residual_meV == pytest.approx(0.0, abs=1e-9)


def test_ferromagnet_has_positive_j1():
    """Only J1 > 0: FM lowest, then zigzag, stripy, Neel; the fit says J1 > 0."""
    sums = np.array([_sums(rectangular(CGT), c) for c in J_CONFIGURATIONS])
    energies = -1.0 - 1.5**2 * 3e-3 * sums[:, 0]
    assert np.argsort(energies).tolist() == [0, 2, 3, 1]
    assert fit_exchange(energies, sums, 1.5).j_meV == pytest.approx((3.0, 0.0, 0.0), abs=1e-9)


def test_least_squares_takes_more_configurations_and_reports_misfit():
    sums = np.array([_sums(rectangular(CGT), c) for c in J_CONFIGURATIONS])
    sums = np.vstack([sums, sums[0]])  # FM twice, with 2 meV of noise between the copies
    energies = np.array([_energy(s) for s in sums]) + np.array([0, 0, 0, 0, 2e-3])
    fit = fit_exchange(energies, sums, 1.5)
    assert fit.residual_meV > 0.5


def test_three_configurations_cannot_fix_three_couplings():
    sums = np.array([_sums(rectangular(CGT), c) for c in J_CONFIGURATIONS[:3]])
    with pytest.raises(ValueError, match="fix only 3"):
        fit_exchange(np.zeros(3), sums, 1.5)


def _write_runs(root: Path, dec: Decoration, **overrides) -> None:
    """Fake run records of the four configurations with energies from TRUE_J."""
    atoms = rectangular(dec)
    for conf in J_CONFIGURATIONS:
        _, start = build_atoms(RunSpec(dec, conf, "rectangular"))
        rec = {"status": "ok", "cell": "rectangular", "kpts": [4, 2, 1], "sites": dec.as_dict(),
               "parameters": {"h": 0.2}, "energy_eV": _energy(_sums(atoms, conf)),
               "initial_moments_uB": start.tolist(),
               "site_moments_uB": (0.9 * start).tolist()}  # fmt: skip
        rec.update(overrides.get(conf, {}))
        folder = root / dec.name / conf
        folder.mkdir(parents=True)
        (folder / RUN_JSON).write_text(json.dumps(rec))


def test_run_records_become_labels(tmp_path):
    _write_runs(tmp_path, CGT)
    row = composite_exchange(tmp_path / "Cr2Ge2Te6")
    assert row["status"] == "ok" and row["spin"] == 1.5 and row["kpts"] == "4,2,1"
    assert [row[f"J{n}_meV"] for n in (1, 2, 3)] == pytest.approx(TRUE_J, abs=1e-6)


def _flipped_zigzag() -> dict:
    _, start = build_atoms(RunSpec(CGT, "AFM-zigzag", "rectangular"))
    final = 0.9 * start
    final[np.flatnonzero(start)[1]] *= -1  # one Cr turned over
    return {"AFM-zigzag": {"site_moments_uB": final.tolist()}}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"AFM-stripy": {"status": "unconverged", "reason": "no SCF"}}, "AFM-stripy unconverged"),
     ({"AFM-Neel": {"kpts": [4, 4, 1]}}, "differ in kpts"),
     ({"AFM-zigzag": {"geometry": "ionic"}}, "differ in geometry"),
     ({"FM": {"cell": "hexagonal"}}, "FM ran in the hexagonal cell"),
     ("flip", "AFM-zigzag magnetic order lost: sites \\[1\\] flipped")],
)  # fmt: skip
def test_unusable_runs_are_listed_with_the_reason(tmp_path, overrides, reason):
    _write_runs(tmp_path, CGT, **(_flipped_zigzag() if overrides == "flip" else overrides))
    row = composite_exchange(tmp_path / "Cr2Ge2Te6")
    assert "J1_meV" not in row
    assert pd.Series([row["status"]]).str.contains(reason).all(), row["status"]


def test_missing_run_and_two_ions_are_refused(tmp_path):
    _write_runs(tmp_path, CGT)
    _write_runs(tmp_path, Decoration("Cr", "V", "Ge", "Ge", "Te"))
    (tmp_path / "Cr2Ge2Te6" / "AFM-stripy" / RUN_JSON).unlink()
    table = exchange_table(tmp_path).set_index("composite")
    assert table.loc["Cr2Ge2Te6", "status"] == "AFM-stripy not computed"
    assert table.loc["CrVGe2Te6", "status"].startswith("A1 != A2")
    assert table["J1_meV"].isna().all()


def test_labels_carry_j_only_for_usable_composites():
    index = pd.DataFrame({"composite": ["A", "B"], "configuration": ["FM", "FM"],
                          "energy_eV": [-1.0, -2.0], "moment_uB": [6.0, 6.0],
                          "moment_reported_uB": [6.0, 6.0]})  # fmt: skip
    table = pd.DataFrame({"composite": ["A", "B"], "status": ["ok", "AFM-Neel not computed"],
                          "J1_meV": [2.0, np.nan], "J2_meV": [0.1, np.nan],
                          "J3_meV": [-0.2, np.nan]})  # fmt: skip
    labels = compute_labels(index, exchange=table).set_index("composite")
    assert labels.loc["A", ["J1_meV", "J2_meV", "J3_meV"]].tolist() == [2.0, 0.1, -0.2]
    assert labels.loc["B", ["J1_meV", "J2_meV", "J3_meV"]].isna().all()
    assert compute_labels(index)["J1_meV"].isna().all()


def test_attached_table_survives_a_rebuild_and_feeds_the_j_targets(tmp_path):
    from data_prep.dataset.store import (
        attach_exchange,
        create_store,
        open_dataset,
        rebuild_tables,
        write_sample,
    )
    from models.data import load_samples

    ds = create_store(tmp_path / "ds.zarr")
    for comp in ("Cr2Ge2Te6", "Cr2Si2Te6"):
        row = {"sample_id": comp, "composite": comp, "configuration": "FM", "energy_eV": -1.0,
               "moment_uB": 6.0, "moment_reported_uB": 6.0}  # fmt: skip
        write_sample(ds, comp, row, np.ones((4, 4, 4)), None)
    table = pd.DataFrame({"composite": ["Cr2Ge2Te6", "Cr2Si2Te6"], "status": ["ok", "FM failed"],
                          "J1_meV": [2.5, np.nan], "J2_meV": [0.1, np.nan],
                          "J3_meV": [-0.3, np.nan]})  # fmt: skip
    attach_exchange(ds, table)
    rebuild_tables(ds)  # what a later `magvox prep` does
    samples = load_samples(open_dataset(ds), target="J3")
    assert samples.composites == ["Cr2Ge2Te6"] and samples.y.tolist() == [-0.3]
    assert samples.dropped == {"Cr2Si2Te6": "no J3 label"}
    with pytest.raises(ValueError, match="not a magvox dataset"):
        attach_exchange(tmp_path / "nowhere", table)


def _row(name: str, x: str, j: tuple[float, float, float]) -> dict:
    """A fitted row of the J table whose four energies follow exactly from ``j``."""
    sums = {c: 4 * np.array(PER_SITE[c]) / 2 for c in J_CONFIGURATIONS}
    energies = {f"E_{c}_eV": TRUE_E0 - 1.5**2 * float(np.dot(j, s)) * 1e-3
                for c, s in sums.items()}
    fit = fit_exchange(np.array(list(energies.values())), np.array(list(sums.values())), 1.5)
    return {"composite": name, "X": x, "status": "ok", "J1_meV": fit.j_meV[0],
            "J2_meV": fit.j_meV[1], "J3_meV": fit.j_meV[2], "E0_eV": fit.e0_eV,
            "residual_meV": fit.residual_meV, "spin": 1.5, "kpts": "2,4,1", **energies}


def test_card_section_orders_the_patterns_and_checks_the_literature(tmp_path):
    from data_prep.analysis.exchange_card import exchange_section, lowest_order

    zigzag_j = (1.0, 0.0, -2.2)  # strong AFM J3: zigzag lowest
    rows = [_row("Cr2Si2Te6", "Te", zigzag_j), _row("Cr2Ge2Te6", "Te", TRUE_J),
            _row("Cr2Ge2S6", "S", TRUE_J),
            {"composite": "Cr2P2Te6", "X": "Te", "status": "AFM-stripy not computed"}]
    assert lowest_order(pd.Series(rows[0])) == "AFM-zigzag"
    assert lowest_order(pd.Series(rows[1])) == "FM"
    csv = tmp_path / "exchange_j.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    text = exchange_section(csv, {"Te"})
    assert "2 of 3 Cr2B2X6 composites fitted" in text and "Cr2Ge2S6" not in text
    assert "| Cr2P2Te6 | - |" in text and "AFM-stripy not computed" in text
    si = next(line for line in text.splitlines() if line.startswith("- Cr2Si2Te6"))
    assert "here AFM-zigzag is lowest" in si and si.endswith("agrees.")
    # E - E0 = -S^2 J.C per cell: FM +16.2, Neel -16.2, zigzag -34.2, stripy +34.2 meV;
    # above FM per Cr (4 in the cell): -8.1, -12.6, +4.5 (and no negative zero for J2)
    assert "| Cr2Si2Te6 | +1.00 | +0.00 | -2.20 | -8.1 | -12.6 | +4.5 | AFM-zigzag |" in text
    # a composite computed FM where the paper finds zigzag is reported as a disagreement
    pd.DataFrame([_row("Cr2Si2Te6", "Te", TRUE_J)]).to_csv(csv, index=False)
    assert exchange_section(csv).strip().splitlines()[-1].endswith("disagrees.")
    assert exchange_section(tmp_path / "missing.csv") == ""


def test_card_section_sets_the_j_cell_beside_the_table_1_cell(tmp_path):
    """Neel - FM per Cr from the Table 1 records (2 Cr per hexagonal cell) beside the J cell's."""
    from data_prep.analysis.exchange_card import exchange_section, table1_neel_minus_fm

    csv = tmp_path / "exchange_j.csv"
    pd.DataFrame([_row("Cr2Ge2Te6", "Te", TRUE_J)]).to_csv(csv, index=False)
    records = pd.DataFrame([
        {"composite": "Cr2Ge2Te6", "configuration": "FM", "status": "ok", "energy_eV": -10.0},
        {"composite": "Cr2Ge2Te6", "configuration": "AFM-Neel", "status": "ok",
         "energy_eV": -9.9},
        {"composite": "CrVGe2Te6", "configuration": "FM", "status": "ok", "energy_eV": -9.0},
        {"composite": "CrVGe2Te6", "configuration": "AFM-Neel", "status": "failed",
         "energy_eV": None}])
    assert table1_neel_minus_fm(records) == pytest.approx({"Cr2Ge2Te6": 50.0})  # meV per Cr
    text = exchange_section(csv, {"Te"}, records)
    row = next(line for line in text.splitlines() if line.startswith("| Cr2Ge2Te6"))
    assert row.endswith("| ok | +50.0 |")
    assert "the same sign for" in text and "(Cr2Ge2Te6)" in text
