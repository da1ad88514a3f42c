"""The dataset card's J1-J3 section: the fitted couplings, the order they make, and the literature.

Rendered from the table of ``data_prep.analysis.exchange_labels`` (``data/exchange_j.csv``, one row
per
Cr2B2X6 composite): J1, J2, J3 in meV (J > 0 ferromagnetic, |S| = 3/2, definition in
``data_prep.analysis.exchange``), E0, the fit residual, and which of the four computed orders (FM,
Neel,
zigzag, stripy; all in the rectangular 4-A cell, one k-mesh) is lowest, with each AFM order's
energy above FM in meV per Cr. A row that could not be fitted shows its reason.

Where the card's Table 1 campaign has the same composite, its FM and Neel runs (the hexagonal
2-Cr cell, 4x4x1 k-points) give E(Neel) - E(FM) per Cr independently of the J campaign (the
rectangular 4-Cr cell, 4x2x1): the same physical quantity from another supercell and k-mesh. The
section shows both and how far they differ, a check of both campaigns.

The literature check is Sivadas et al., PRB 91, 235425 (2015) (PBE+U on relaxed monolayers): its
abstract states that monolayer CrSiTe3 is a zigzag antiferromagnet, driven by an antiferromagnetic
third-neighbour coupling J3, while CrGeTe3 is a ferromagnet (Curie temperature 106 K). Those are the
statements checked here; the paper's numerical J table is not reproduced (not at hand on the
machine that made the data), so the comparison is of signs and of the ground-state order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import J_CONFIGURATIONS as ORDERS

CR_PER_CELL = 4  # Cr sites in the rectangular 4-A cell
CR_PER_HEX_CELL = 2  # Cr sites in the Table 1 (hexagonal) cell
# Sivadas et al. (2015), abstract: composite -> (ground-state order, the coupling that decides it)
LITERATURE = {
    "Cr2Si2Te6": ("AFM-zigzag", "a large antiferromagnetic J3, J3 < 0 in this card's convention"),
    "Cr2Ge2Te6": ("FM", "ferromagnetic, Curie temperature 106 K"),
}
SOURCE = "Sivadas et al., PRB 91, 235425 (2015)"


def lowest_order(row: pd.Series) -> str | None:
    """The configuration of lowest total energy among the four (None if any is missing)."""
    energies = [row.get(f"E_{c}_eV") for c in ORDERS]
    if any(e is None or not np.isfinite(e) for e in energies):
        return None
    return ORDERS[int(np.argmin(energies))]


def above_fm_meV(row: pd.Series, order: str) -> float:
    """E(order) - E(FM), meV per Cr."""
    return (row[f"E_{order}_eV"] - row["E_FM_eV"]) * 1e3 / CR_PER_CELL


def table1_neel_minus_fm(records: pd.DataFrame) -> dict[str, float]:
    """E(Neel) - E(FM) in meV per Cr from Table 1 run records (hexagonal cell), per composite.

    ``records``: one row per run record (``composite``, ``configuration``, ``status``,
    ``energy_eV``, ``cell``); only composites whose FM and AFM-Neel runs both converged.
    """
    if records is None or records.empty:
        return {}
    ok = records[(records["status"] == "ok")
                 & (records.get("cell", pd.Series("hexagonal", index=records.index))
                    .fillna("hexagonal") == "hexagonal")]
    energies = ok.pivot_table(index="composite", columns="configuration", values="energy_eV",
                              aggfunc="first")
    if not {"FM", "AFM-Neel"} <= set(energies.columns):
        return {}
    diff = (energies["AFM-Neel"] - energies["FM"]).dropna() * 1e3 / CR_PER_HEX_CELL
    return {str(c): float(v) for c, v in diff.items()}


def _cross_check_line(rows: pd.DataFrame, hexagonal: dict[str, float]) -> list[str]:
    """One sentence: do the two cells agree on Neel - FM (sign, largest difference)?"""
    both = [(r["composite"], above_fm_meV(r, "AFM-Neel"), hexagonal[r["composite"]])
            for _, r in rows.iterrows() if r["status"] == "ok" and r["composite"] in hexagonal]
    if not both:
        return []
    same = sum(np.sign(a) == np.sign(b) for _, a, b in both)
    worst = max(both, key=lambda t: abs(t[1] - t[2]))
    return [f"Neel - FM from the two cells (rectangular J cell against the Table 1 hexagonal "
            f"cell, independent runs, other k-mesh): the same sign for {same} of {len(both)} "
            f"composites; largest difference {abs(worst[1] - worst[2]):.1f} meV per Cr "
            f"({worst[0]}).", ""]


def _signed(value: float, digits: int) -> str:
    """``value`` with its sign, never a negative zero."""
    return f"{round(float(value), digits) + 0.0:+.{digits}f}"


def _table(rows: pd.DataFrame, hexagonal: dict[str, float]) -> list[str]:
    lines = ["| composite | J1 | J2 | J3 | Neel - FM | zigzag - FM | stripy - FM | lowest | "
             "fit rms | status | Neel - FM, Table 1 cell |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in rows.sort_values("composite").iterrows():
        hexa = hexagonal.get(r["composite"])
        hexa = "-" if hexa is None else _signed(hexa, 1)
        if r["status"] != "ok":
            lines.append(f"| {r['composite']} | - | - | - | - | - | - | - | - | {r['status']} "
                         f"| {hexa} |")
            continue
        js = " | ".join(_signed(r[f"J{n}_meV"], 2) for n in (1, 2, 3))
        ups = " | ".join(_signed(above_fm_meV(r, o), 1) for o in ORDERS[1:])
        lines.append(f"| {r['composite']} | {js} | {ups} | {lowest_order(r)} | "
                     f"{r['residual_meV']:.1e} | ok | {hexa} |")
    return lines


def literature_lines(table: pd.DataFrame) -> list[str]:
    """One line per composite of ``LITERATURE`` found in ``table``: agreement or not."""
    out = []
    rows = table.set_index("composite")
    for name, (order, why) in LITERATURE.items():
        if name not in rows.index:
            continue
        r = rows.loc[name]
        if r["status"] != "ok":
            out.append(f"- {name}: {SOURCE} finds {order} ({why}); not fitted here: {r['status']}.")
            continue
        here = lowest_order(r)
        verdict = "agrees" if here == order else "disagrees"
        js = ", ".join(f"J{n} {_signed(r[f'J{n}_meV'], 2)}" for n in (1, 2, 3))
        out.append(f"- {name}: {SOURCE} finds {order} ({why}); here {here} is lowest ({js} "
                   f"meV): {verdict}.")
    return out


def exchange_section(table_csv: Path | None, xs: set[str] | None = None,
                     records: pd.DataFrame | None = None) -> str:
    """The card's markdown section ('' without a table); ``xs``: keep composites of these X.

    ``records``: the card's Table 1 run records, for the Neel - FM cross-check of the two cells.
    """
    if table_csv is None or not Path(table_csv).is_file():
        return ""
    table = pd.read_csv(table_csv)
    if xs is not None and "X" in table:
        table = table[table["X"].isin(xs) | table["X"].isna()]
    if table.empty:
        return ""
    ok = int((table["status"] == "ok").sum())
    hexagonal = table1_neel_minus_fm(records)
    lines = [
        "## Exchange constants J1, J2, J3 "
        f"(`make jcampaign jlabels`, `data/{Path(table_csv).name}`)",
        f"{ok} of {len(table)} Cr2B2X6 composites fitted. J in meV, **J > 0 ferromagnetic**, "
        "E = E0 - sum_n J_n sum_<ij in shell n> S_i.S_j, each pair once, |S| = 3/2 "
        "(`data_prep.analysis.exchange`); the four orders in the rectangular 4-A cell with one "
        "k-mesh, "
        "at the prototype geometry. Energies above FM in meV per Cr; fit rms in meV per cell "
        "(four orders, four unknowns: zero up to rounding). The last column is E(Neel) - E(FM) "
        "per Cr from this card's Table 1 runs (hexagonal cell).", "",
        *_table(table, hexagonal), "", *_cross_check_line(table, hexagonal)]
    lit = literature_lines(table)
    if lit:
        lines += ["Against the literature (PBE+U at relaxed geometries there; plain PBE at the "
                  "prototype geometry here, so signs and orders compare, magnitudes less so):",
                  *lit, ""]
    return "\n".join(lines) + "\n"
