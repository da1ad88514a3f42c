"""What moves the FM/AFM order: one table of E(AFM-Neel) - E(FM) per composite and DFT setting.

    python -m data_prep.analysis.settings_study --baseline data/campaign --relaxed
    data/settings/relaxed \\
        --relax data/settings/relax_fm --pw data/settings/pw --out data/settings/README.md

Published VASP work on these alloys finds the same ferrimagnetic Neel states as magvox's runs but
orders FM and Neel differently for a share of the composites with Ti, V, Nb or Co on A2. Each
setting is a campaign folder of the same composites (``make settings``): ``baseline`` the Table 1
runs (LCAO dzp, prototype geometry), ``relaxed`` both configurations at the geometry relaxed in FM
(``--relax``: the relaxation runs, for their step counts and residual forces), ``pw`` plane waves
at the prototype geometry. Energies are eV per 10-atom cell; the difference is in meV per cell,
positive = FM lower. Which state is lower follows the ``ground_state`` label's own rule, so a
difference within 1 meV is no order, and a change is counted only where the label would change.
A run that failed or did not converge shows its status and never enters a difference; a pair
redone with an SCF aid (a gentler mixer, wider smearing) names it beside its runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from data_prep.dataset.labels import ground_state_rule
from data_prep.dft.gpaw_engine import GpawParameters
from data_prep.io.fileio import folder_notes
from data_prep.io.run_record import find_run_record

SETTINGS = ("baseline", "relaxed", "pw")
DESCRIPTION = {
    "baseline": "Table 1 runs: LCAO dzp, prototype geometry",
    "relaxed": "FM and Neel at the geometry relaxed in FM (BFGS, cell fixed, fmax 0.05 eV/A)",
    "pw": "plane waves, 400 eV, prototype geometry",
}


def _record(folder: Path | None, composite: str, configuration: str) -> dict | None:
    if folder is None:
        return None
    return find_run_record(folder / composite / configuration)


def _cell(rec: dict | None) -> str:
    """``ok`` records: their energy is usable; else their status (or 'not run')."""
    if rec is None:
        return "not run"
    return "ok" if rec.get("status") == "ok" else str(rec.get("status"))


#: SCF aids a pair may be redone with when it does not converge at the common settings; the
#: table names them beside the runs, so a difference computed with one is never mistaken.
SCF_AIDS = ("mixer_beta", "mixer_backend", "mixer_method", "smearing_eV", "maxiter")


def scf_aids(*records: dict | None) -> str:
    """The SCF aids the records share that differ from the GPAW defaults, e.g.
    ``mixer_beta=0.05``; '' when none (records without parameters count as defaults)."""
    default = GpawParameters()
    seen: dict[str, object] = {}
    for rec in records:
        params = (rec or {}).get("parameters") or {}
        for key in SCF_AIDS:
            if key in params and params[key] != getattr(default, key):
                seen[key] = params[key]
    return ", ".join(f"{k}={v}" for k, v in seen.items())


def order(fm: dict, afm: dict) -> str:
    """Which state is lower, by the ``ground_state`` label's own rule
    (``data_prep.dataset.labels``):
    ``FM``, ``Neel``, ``one state`` (both starts converged into the FM state: ground_state 1) or
    ``degenerate`` (two states within 1 meV per cell: no label)."""
    ground, collapsed = ground_state_rule(fm["energy_eV"], afm["energy_eV"], fm["moment_uB"],
                                          afm["moment_uB"])
    if collapsed:
        return "one state"
    return "degenerate" if pd.isna(ground) else ("FM" if ground == 1 else "Neel")


def compare(folders: dict[str, Path | None], composites: list[str],
            relax: Path | None = None) -> pd.DataFrame:
    """One row per (composite, setting): energies (eV), E_AFM - E_FM (meV per cell), moments
    (uB per cell), the status of each run and, for ``relaxed``, the FM relaxation's steps and
    residual force (eV/A)."""
    rows = []
    for comp in composites:
        for setting in SETTINGS:
            fm = _record(folders.get(setting), comp, "FM")
            afm = _record(folders.get(setting), comp, "AFM-Neel")
            row: dict = {"composite": comp, "setting": setting, "FM": _cell(fm),
                         "AFM-Neel": _cell(afm), "scf_aids": scf_aids(fm, afm)}
            if row["FM"] == "ok":
                row.update(E_FM_eV=fm["energy_eV"], M_FM_uB=fm["moment_uB"])
            if row["AFM-Neel"] == "ok":
                row.update(E_AFM_eV=afm["energy_eV"], M_AFM_uB=afm["moment_uB"])
            if row["FM"] == row["AFM-Neel"] == "ok":
                row["dE_meV"] = 1000 * (afm["energy_eV"] - fm["energy_eV"])
                row["lower"] = order(fm, afm)
            if setting == "relaxed":
                rel = _record(relax, comp, "FM")
                if rel is not None and rel.get("status") == "ok":
                    row.update(relax_steps=rel.get("relax_steps_taken"),
                               relax_converged=rel.get("relax_converged"),
                               max_force_eV_A=rel.get("max_force_eV_per_A"))
            rows.append(row)
    return pd.DataFrame(rows)


def _num(value: object, fmt: str) -> str:
    return "-" if value is None or pd.isna(value) else format(value, fmt)


def markdown(table: pd.DataFrame) -> str:
    """The study as markdown: settings, one row per composite and setting, the order per setting."""
    lines = ["| setting | what |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in DESCRIPTION.items()]
    lines += ["", "| composite | setting | E(Neel) - E(FM), meV/cell | lower | M FM, uB | "
              "M Neel, uB | runs (FM, Neel) | FM relaxation |", "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        d = r.get("dE_meV")
        lower = r.get("lower") if isinstance(r.get("lower"), str) else "-"
        relax = "-"
        if r["setting"] == "relaxed" and not pd.isna(r.get("relax_steps", float("nan"))):
            done = "converged" if r.get("relax_converged") else "step limit"
            relax = (f"{int(r['relax_steps'])} steps, {done}, max force "
                     f"{_num(r.get('max_force_eV_A'), '.3f')} eV/A")
        aids = f" ({r['scf_aids']})" if r.get("scf_aids") else ""
        lines.append(f"| {r['composite']} | {r['setting']} | {_num(d, '+.1f')} | {lower} | "
                     f"{_num(r.get('M_FM_uB'), '.2f')} | {_num(r.get('M_AFM_uB'), '.2f')} | "
                     f"{r['FM']}, {r['AFM-Neel']}{aids} | {relax} |")
    lines += ["", verdict(table)]
    return "\n".join(lines) + "\n"


def verdict(table: pd.DataFrame) -> str:
    """Which setting changes the ``ground_state`` label against the baseline (FM, Neel, or none
    when degenerate), for the composites with both energies under both settings."""
    if "lower" not in table:
        return "No composite has both energies under any setting yet."
    label = {"FM": "FM", "one state": "FM", "Neel": "Neel", "degenerate": "none"}
    wide = table.pivot(index="composite", columns="setting", values="lower").replace(label)
    energies = table.pivot(index="composite", columns="setting", values="dE_meV")
    out = []
    for setting in ("relaxed", "pw"):
        if setting not in wide or "baseline" not in wide:
            out.append(f"`{setting}`: no composite computed yet.")
            continue
        both = wide[["baseline", setting]].dropna()
        flips = both[both["baseline"] != both[setting]]
        pairs = zip(flips.index, flips["baseline"], flips[setting], strict=True)
        names = ", ".join(f"{c}: {b} -> {s}" for c, b, s in pairs) or "none"
        out.append(f"`{setting}` against `baseline`: {len(both)} composites with both "
                   f"differences, the ground_state label changes for {len(flips)} ({names}).")
        shift = (energies[setting] - energies["baseline"]).dropna() if setting in energies \
            else pd.Series(dtype=float)
        if len(shift):
            out.append(f"It moves E(Neel) - E(FM) by {shift.min():+.1f} to {shift.max():+.1f} "
                       f"meV/cell (mean {shift.mean():+.1f}; negative = towards Neel).")
    return " ".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", type=Path, required=True)
    p.add_argument("--relaxed", type=Path)
    p.add_argument("--relax", type=Path, help="the FM relaxation runs (steps, forces)")
    p.add_argument("--pw", type=Path)
    p.add_argument("--composites", nargs="+",
                   default=["CrTiGe2Te6", "CrVGe2Te6", "CrNbGe2Te6", "CrCoGe2Te6", "CrCoP2Te6"])
    p.add_argument("--out", type=Path, default=Path("data/settings/README.md"))
    args = p.parse_args(argv)
    folders = {"baseline": args.baseline, "relaxed": args.relaxed, "pw": args.pw}
    text = markdown(compare(folders, args.composites, args.relax))
    notes = folder_notes(args.out.parent)  # what was tried where a run did not converge
    if notes:
        text = text.rstrip() + "\n\n" + notes + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
