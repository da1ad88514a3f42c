"""The settings study table: E(Neel) - E(FM) per composite and setting, failures shown, flips
counted against the baseline."""

from __future__ import annotations

import json
from pathlib import Path

from data_prep.analysis.settings_study import compare, markdown


def run(root: Path, comp: str, conf: str, status: str = "ok", energy: float = 0.0,
        **extra) -> None:
    folder = root / comp / conf
    folder.mkdir(parents=True)
    (folder / "magvox_run.json").write_text(json.dumps(
        {"status": status, "energy_eV": energy, "moment_uB": 5.0 if conf == "FM" else 1.0,
         **extra}))


def test_differences_flips_and_failures(tmp_path: Path) -> None:
    base, relaxed, relax, pw = (tmp_path / n for n in ("base", "relaxed", "relax", "pw"))
    for comp, fm, afm in (("A", -10.0, -9.95), ("B", -20.0, -19.99), ("C", -5.0, -4.99)):
        run(base, comp, "FM", energy=fm)
        run(base, comp, "AFM-Neel", energy=afm)
    # C: plane waves bring two different states within 1 meV (no label); the relaxed Neel start
    # converges into the FM state (same energy and moment: label FM, as at the baseline)
    run(pw, "C", "FM", energy=-7.0)
    run(pw, "C", "AFM-Neel", energy=-7.0004)
    run(relaxed, "C", "FM", energy=-6.0)
    run(relaxed, "C", "AFM-Neel", energy=-6.0002, moment_uB=5.03)
    run(relaxed, "A", "FM", energy=-11.0)
    run(relaxed, "A", "AFM-Neel", energy=-11.02)  # Neel lower after relaxing: a flip
    run(relax, "A", "FM", relax_steps_taken=12, relax_converged=True, max_force_eV_per_A=0.04)
    run(relaxed, "B", "FM", energy=-21.0)
    run(relaxed, "B", "AFM-Neel", status="unconverged")
    # A with plane waves: the pair redone with a gentler mixer, which the table names
    run(pw, "A", "FM", energy=-30.0, parameters={"mixer_beta": 0.05, "smearing_eV": 0.05})
    run(pw, "A", "AFM-Neel", energy=-29.9, parameters={"mixer_beta": 0.05, "maxiter": 300})
    table = compare({"baseline": base, "relaxed": relaxed, "pw": pw}, ["A", "B", "C"], relax)
    by = table.set_index(["composite", "setting"])
    assert abs(by.loc[("A", "baseline"), "dE_meV"] - 50.0) < 1e-6
    assert abs(by.loc[("A", "relaxed"), "dE_meV"] + 20.0) < 1e-6
    assert by.loc[("B", "relaxed"), "AFM-Neel"] == "unconverged"
    assert by.loc[("B", "pw"), "FM"] == "not run"
    text = markdown(table)
    assert "| A | relaxed | -20.0 | Neel |" in text
    assert "12 steps, converged, max force 0.040 eV/A" in text
    assert "| C | pw | -0.4 | degenerate |" in text
    assert "| ok, ok (mixer_beta=0.05) |" in text
    assert text.count("mixer_beta") == 1  # only A's plane-wave pair; defaults are not named
    assert "| C | relaxed | -0.2 | one state |" in text
    assert "`relaxed` against `baseline`: 2 composites with both differences, the ground_state " \
           "label changes for 1 (A: FM -> Neel)" in text
    assert "`pw` against `baseline`: 2 composites with both differences, the ground_state label " \
           "changes for 1 (C: FM -> none)" in text
    # relaxed: A 50 -> -20, C 10 -> -0.2 meV; pw: A 50 -> 100, C 10 -> -0.4 meV
    assert "It moves E(Neel) - E(FM) by -70.0 to -10.2 meV/cell (mean -40.1; negative = " \
           "towards Neel)" in text
    assert "by -10.4 to +50.0 meV/cell (mean +19.8" in text


def test_notes_beside_the_table_are_kept_under_it(tmp_path: Path) -> None:
    """What was tried where a run did not converge is written by hand once (NOTES.md beside
    the table) and survives every re-render of the table."""
    from data_prep.analysis.settings_study import main

    base = tmp_path / "base"
    run(base, "A", "FM", energy=-10.0)
    run(base, "A", "AFM-Neel", energy=-9.95)
    out = tmp_path / "settings" / "README.md"
    out.parent.mkdir()
    assert main(["--baseline", str(base), "--composites", "A", "--out", str(out)]) == 0
    assert "**A:** tried" not in out.read_text()
    (out.parent / "NOTES.md").write_text("**A:** tried four mixers.\n")
    assert main(["--baseline", str(base), "--composites", "A", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| A | baseline | +50.0 | FM |" in text
    assert text.rstrip().endswith("**A:** tried four mixers.")
