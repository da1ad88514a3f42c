"""The bond rules against measured structures: the card's length and moment tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from data_prep.analysis.bond_check import HIGH_SPIN_UB, bond_rule_section, moment_table
from data_prep.dft.reference_structures import MEASURED, comparison_table
from data_prep.dft.structures import bond_lengths, lattice_constant


def _rows(table: str) -> dict[str, list[str]]:
    """{first cell: the other cells} of a markdown table's body."""
    lines = table.strip().splitlines()[2:]
    return {cells[0]: cells[1:] for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_length_table_states_each_rule_and_the_measured_values():
    rows = _rows(comparison_table())
    assert set(rows) == {m.compound for m in MEASURED}
    for m in MEASURED:
        aa_meas, aa_proto, ax_meas, ax_cov, ax_ion, _ = rows[m.compound]
        assert float(aa_meas) == pytest.approx(m.aa_A, abs=0.005)
        aa = lattice_constant(m.decoration) / math.sqrt(3)
        assert aa_proto.startswith(f"{aa:.2f} (")
        assert ax_meas == ("-" if m.ax_A is None else f"{m.ax_A:.2f}")
        assert float(ax_cov) == pytest.approx(bond_lengths(m.decoration, "covalent")["AX"],
                                              abs=0.005)
        assert float(ax_ion) == pytest.approx(bond_lengths(m.decoration, "ionic")["AX"],
                                              abs=0.005)
    # what the ionic rule fixes, read off the card's own table: Mn-S of MnPS3
    assert rows["MnPS3"][2:4] == ["2.63", "2.45"] and float(rows["MnPS3"][4]) > 2.58


def _record(root: Path, rule: str, comp: str, **rec) -> None:
    folder = root / rule / comp / "FM"
    folder.mkdir(parents=True)
    (folder / "magvox_run.json").write_text(json.dumps(rec))


def test_moment_table_shows_converged_moments_and_names_the_rest(tmp_path: Path):
    _record(tmp_path, "ionic", "Mn2P2S6", status="ok", moment_uB=9.962)
    _record(tmp_path, "covalent", "Mn2P2S6", status="ok", moment_uB=8.471)
    _record(tmp_path, "covalent", "Fe2P2S6", status="unconverged", moment_uB=7.1)
    rows = _rows(moment_table(tmp_path))
    assert rows["MnPS3 (Mn2P2S6)"] == ["8.47", "9.96", "10.00"]
    assert rows["FePS3 (Fe2P2S6)"] == ["unconverged", "not run", "8.00"]
    assert rows["NiPS3 (Ni2P2S6)"] == ["not run", "not run", f"{2 * HIGH_SPIN_UB['NiPS3']:.2f}"]


def test_section_has_moments_only_where_runs_exist(tmp_path: Path):
    assert "FM moment per 10-atom cell" not in bond_rule_section(tmp_path / "absent")
    assert "| MnPS3 |" in bond_rule_section(None)
    _record(tmp_path, "ionic", "Mn2P2S6", status="ok", moment_uB=9.96)
    assert "| MnPS3 (Mn2P2S6) |" in bond_rule_section(tmp_path)
