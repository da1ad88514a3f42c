"""The card audit of the studies a card shows beside its dataset: the bond rules against measured
structures (make bondcheck), the J1-J3 fits (make jcampaign jlabels) with the literature, and
the settings study (make settings settings-table). Each figure against its run records or table.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from card_read import Findings, Sources, found, record, section, table


def check_bond_rules(body: str, root: Path, out: Findings) -> None:
    """The measured-structure lengths (data_prep.dft.reference_structures) and the FM moments of
    the bond-check runs (``root/<rule>/<composite>/FM``)."""
    from data_prep.analysis.bond_check import HIGH_SPIN_UB
    from data_prep.dft.bond_rules import RULES
    from data_prep.dft.reference_structures import comparison_table

    lengths, reference = table(body, "| compound | A-A"), table(comparison_table(), "| compound")
    out.same("bond-rule compounds", [r[0] for r in lengths], [r[0] for r in reference])
    for row, ref in zip(lengths, reference, strict=False):
        for col, (cell, want) in enumerate(zip(row[1:6], ref[1:6], strict=True), start=1):
            number = cell.split(" ")[0]
            out.figure(f"{row[0]} length column {col}", number,
                       None if want == "-" else float(want.split(" ")[0]))
    moments = {r[0]: r[1:] for r in table(body, "| compound | FM moment")}
    out.same("bond-check compounds", sorted(moments),
             sorted(f"{c} ({c[:2]}2P2S6)" for c in HIGH_SPIN_UB))
    for name, cells in moments.items():
        compound, composite = name.split(" (")[0], name.split("(")[1].rstrip(")")
        for rule, cell in zip(RULES, cells, strict=False):
            rec = record(root / rule, composite, "FM")
            status = "not run" if rec is None else rec["status"]
            if status == "ok":
                out.figure(f"{composite} FM moment, {rule}", cell, rec["moment_uB"])
            else:
                out.same(f"{composite} FM run, {rule}", cell, status)
        out.figure(f"{compound} high-spin moment", cells[-1], 2 * HIGH_SPIN_UB[compound])


def check_exchange(text: str, src: Sources, out: Findings) -> None:
    body = section(text, "Exchange constants")
    if src.exchange is None:
        out.same("exchange section", body, None)
        return
    csv = pd.read_csv(src.exchange)
    csv = csv[csv["X"].isin(src.xs)].set_index("composite")
    per_cr = 1000 / 4  # eV per rectangular 4-Cr cell -> meV per Cr
    energy = src.ok.pivot_table(index="composite", columns="configuration", values="energy_eV")
    hexagonal = (energy["AFM-Neel"] - energy["FM"]).dropna() * 1000 / 2  # meV per Cr
    fitted = found(r"(\d+) of (\d+) Cr2B2X6 composites fitted", body or "") or [None] * 2
    out.figure("J composites fitted", fitted[0], int((csv["status"] == "ok").sum()))
    out.figure("J composites", fitted[1], len(csv))
    rows = {r[0]: r[1:] for r in table(body or "", "| composite | J1")}
    out.same("J table composites", sorted(rows), sorted(csv.index))
    orders = ("FM", "AFM-Neel", "AFM-zigzag", "AFM-stripy")
    both = []
    for comp, cells in rows.items():
        if comp not in csv.index:
            continue
        r, lab = csv.loc[comp], src.labels.loc[comp] if comp in src.labels.index else None
        out.same(f"{comp} J status", cells[8], r["status"])
        out.figure(f"{comp} Neel - FM, Table 1 cell", cells[9], hexagonal.get(comp))
        if r["status"] != "ok":
            continue
        for n in (1, 2, 3):
            out.figure(f"{comp} J{n}", cells[n - 1], r[f"J{n}_meV"])
            if lab is not None:
                out.figure(f"{comp} J{n} (store label)", cells[n - 1], lab[f"J{n}_meV"])
        for k, o in enumerate(orders[1:]):
            out.figure(f"{comp} {o} - FM", cells[3 + k], (r[f"E_{o}_eV"] - r["E_FM_eV"]) * per_cr)
        lowest = orders[int(np.argmin([r[f"E_{o}_eV"] for o in orders]))]
        out.same(f"{comp} lowest order", cells[6], lowest)
        out.figure(f"{comp} fit rms", cells[7], r["residual_meV"])
        if comp in hexagonal:
            both.append((comp, (r["E_AFM-Neel_eV"] - r["E_FM_eV"]) * per_cr, hexagonal[comp]))
    if both:
        stated = found(r"the same sign for (\d+) of (\d+) composites; largest difference (\S+) "
                        r"meV per Cr \((\w+)\)", body) or [None] * 4
        worst = max(both, key=lambda t: abs(t[1] - t[2]))
        out.figure("cells of one sign", stated[0], sum(np.sign(a) == np.sign(b)
                                                       for _, a, b in both))
        out.figure("cells compared", stated[1], len(both))
        out.figure("largest cell difference", stated[2], abs(worst[1] - worst[2]))
        out.same("composite of the largest difference", stated[3], worst[0])
    check_literature(body or "", csv, out)


def check_literature(body: str, csv: pd.DataFrame, out: Findings) -> None:
    from data_prep.analysis.exchange_card import (
        LITERATURE,  # the cited orders (Sivadas et al. 2015)
    )

    orders = ("FM", "AFM-Neel", "AFM-zigzag", "AFM-stripy")
    lines = re.findall(r"^- (\w+): .*? finds ([\w-]+) .*?; here ([\w-]+) is lowest \(J1 (\S+), "
                       r"J2 (\S+), J3 (\S+) meV\): (agrees|disagrees)\.$", body, re.MULTILINE)
    expected = [c for c in LITERATURE if c in csv.index and csv.loc[c, "status"] == "ok"]
    out.same("literature lines", [line[0] for line in lines], expected)
    for comp, cited, here, j1, j2, j3, verdict in lines:
        if comp not in expected:
            continue
        r = csv.loc[comp]
        lowest = orders[int(np.argmin([r[f"E_{o}_eV"] for o in orders]))]
        out.same(f"{comp} cited order", cited, LITERATURE[comp][0])
        out.same(f"{comp} lowest here", here, lowest)
        for n, printed in zip((1, 2, 3), (j1, j2, j3), strict=True):
            out.figure(f"{comp} J{n} (literature line)", printed, r[f"J{n}_meV"])
        out.same(f"{comp} verdict", verdict, "agrees" if lowest == cited else "disagrees")


def check_settings(text: str, src: Sources, out: Findings) -> None:
    """The settings study (data/settings): each row's difference, order, moments and runs."""
    from data_prep.dataset.labels import ground_state_rule

    body = section(text, "What moves the FM/AFM order")
    if src.settings is None:
        out.same("settings section", body, None)
        return
    folders = {"baseline": src.campaign, "relaxed": src.settings / "relaxed",
               "pw": src.settings / "pw"}
    rows = table(body or "", "| composite | setting")
    out.same("settings rows", len(rows) > 0, True)
    differences: dict[str, dict[str, float]] = {}
    lowers: dict[str, dict[str, str]] = {}
    for comp, setting, de, lower, m_fm, m_neel, runs, relax in (r[:8] for r in rows):
        fm, neel = (record(folders[setting], comp, c) for c in ("FM", "AFM-Neel"))
        status = [("not run" if r is None else r["status"]) for r in (fm, neel)]
        out.same(f"{comp} {setting} runs", runs.split(" (")[0], ", ".join(status))
        okay = [s == "ok" for s in status]
        out.figure(f"{comp} {setting} M FM", m_fm, fm["moment_uB"] if okay[0] else None)
        out.figure(f"{comp} {setting} M Neel", m_neel, neel["moment_uB"] if okay[1] else None)
        if all(okay):
            dE = 1000 * (neel["energy_eV"] - fm["energy_eV"])
            ground, collapsed = ground_state_rule(fm["energy_eV"], neel["energy_eV"],
                                                  fm["moment_uB"], neel["moment_uB"])
            order = ("one state" if collapsed else "degenerate" if pd.isna(ground)
                     else "FM" if ground == 1 else "Neel")
            differences.setdefault(setting, {})[comp] = dE
            lowers.setdefault(setting, {})[comp] = "FM" if order == "one state" else order
        else:
            dE, order = None, "-"
        out.figure(f"{comp} {setting} E(Neel) - E(FM)", de, dE)
        out.same(f"{comp} {setting} lower", lower, order)
        relaxed = record(src.settings / "relax_fm", comp, "FM") if setting == "relaxed" else None
        if relaxed is not None and relaxed["status"] == "ok":
            steps = found(r"(\d+) steps, (converged|step limit), max force (\S+) eV/A", relax)
            out.same(f"{comp} relaxation", steps and steps[:2],
                     (str(relaxed["relax_steps_taken"]),
                      "converged" if relaxed["relax_converged"] else "step limit"))
            out.figure(f"{comp} relaxation force", steps and steps[2],
                       relaxed["max_force_eV_per_A"])
    for setting in ("relaxed", "pw"):
        common = sorted(set(differences.get(setting, {})) & set(differences["baseline"]))
        stated = found(rf"`{setting}` against `baseline`: (\d+) composites with both "
                        r"differences, the ground_state label changes for (\d+) .*?by (\S+) to "
                        r"(\S+) meV/cell \(mean (\S+);", body or "") or [None] * 5
        shift = [differences[setting][c] - differences["baseline"][c] for c in common]
        flips = sum(lowers[setting][c] != lowers["baseline"][c] for c in common)
        for name, printed, value in zip(("composites", "label changes", "least shift",
                                         "largest shift", "mean shift"), stated,
                                        (len(common), flips, min(shift), max(shift),
                                         float(np.mean(shift))), strict=True):
            out.figure(f"{setting} against baseline: {name}", printed, value)
