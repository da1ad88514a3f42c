"""Per-composite labels from the sample index (docs/CONTRACTS.md).

ground_state: 1 = FM (E_FM < E_AFM-Neel), 0 = AFM; missing (<NA>) unless both exist. FM and Neel
are compared because they share the 10-atom cell and its k-mesh: total energies of the rectangular
cell (zigzag, stripy) are not comparable with them unless FM is computed in that cell too.
moment_uB: the FM run's moment (as reported by the run, else the integral of its spin density).
moment_class: 1 if moment_uB > threshold (4 uB). exchange_energy_eV: E_AFM-Neel - E_FM, eV per cell.
J1_meV, J2_meV, J3_meV: Heisenberg couplings of the first three A-A shells (meV, J > 0
ferromagnetic; ``data_prep.analysis.exchange``), from a separate rectangular-cell campaign's table
(``data_prep.analysis.exchange_labels``); missing unless that table has the composite with status
ok.

When the FM and Neel starts converge into one state (same moment within 0.1 uB, same energy within
1 meV), no AFM state is metastable and ground_state is 1 (``afm_collapsed`` True): A2 then keeps
no moment of its own (in the bundled sets at most 0.34 uB, induced by Cr), so the one magnetic
sublattice, Cr, is ferromagnetic whatever the sign of that induced moment. Two different
states within 1 meV are degenerate at the method's precision: ground_state is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_prep import CLASS_TARGETS, J_COLUMNS

MOMENT_THRESHOLD_UB = 4.0
LABEL_COLUMNS = ["composite", "ground_state", "moment_uB", "moment_class", "exchange_energy_eV",
                 "energy_FM_eV", "energy_AFM_eV", "afm_configuration", "afm_collapsed",
                 "configurations", *J_COLUMNS]
DEGENERATE_EV = 1e-3  # eV per cell: below this, FM and AFM energies are not told apart
SAME_MOMENT_UB = 0.1


def _moment(rows: pd.DataFrame, configuration: str) -> float:
    hit = rows[rows["configuration"] == configuration]
    if not len(hit):
        return np.nan
    reported = hit["moment_reported_uB"].dropna()
    return float(reported.iloc[0]) if len(reported) else float(hit["moment_uB"].iloc[0])


def ground_state_rule(e_fm: float, e_afm: float, m_fm: float,
                      m_afm: float) -> tuple[object, bool]:
    """(ground_state, afm_collapsed) from the FM and Neel energies (eV per cell) and moments (uB
    per cell), following the module docstring's rules: 1 FM, 0 AFM, <NA> missing or degenerate."""
    if np.isnan(e_fm) or np.isnan(e_afm):
        return pd.NA, False
    if abs(e_afm - e_fm) >= DEGENERATE_EV:
        return int(e_fm < e_afm), False
    if abs(abs(m_afm) - abs(m_fm)) < SAME_MOMENT_UB:
        return 1, True
    return pd.NA, False


def _energy(rows: pd.DataFrame, configuration: str) -> float:
    hit = rows.loc[rows["configuration"] == configuration, "energy_eV"].dropna()
    return float(hit.min()) if len(hit) else np.nan


def _label_row(composite: str, rows: pd.DataFrame, threshold_uB: float) -> dict:
    moment = _moment(rows, "FM")
    e_fm = _energy(rows, "FM")
    e_afm = _energy(rows, "AFM-Neel")
    afm_conf = None if np.isnan(e_afm) else "AFM-Neel"
    ground, collapsed = ground_state_rule(e_fm, e_afm, moment, _moment(rows, "AFM-Neel"))
    return {
        "composite": composite,
        "ground_state": ground,
        "moment_uB": moment,
        "moment_class": pd.NA if np.isnan(moment) else int(moment > threshold_uB),
        "exchange_energy_eV": e_afm - e_fm,
        "energy_FM_eV": e_fm,
        "energy_AFM_eV": e_afm,
        "afm_configuration": afm_conf,
        "afm_collapsed": collapsed,
        "configurations": ",".join(sorted(rows["configuration"].dropna().astype(str).unique())),
    }


def _exchange_of(exchange: pd.DataFrame | None) -> dict[str, dict]:
    """composite -> {J1_meV: ..} for the rows of the exchange table with status ok."""
    if exchange is None or exchange.empty:
        return {}
    ok = exchange[exchange["status"] == "ok"]
    return {str(r["composite"]): {c: float(r[c]) for c in J_COLUMNS} for _, r in ok.iterrows()}


def compute_labels(
    index: pd.DataFrame, threshold_uB: float = MOMENT_THRESHOLD_UB,
    exchange: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """One row per composite (columns LABEL_COLUMNS) from the sample index.

    ``exchange``: the table of ``data_prep.analysis.exchange_labels`` (composite, status, J1_meV,
    ...).
    """
    if index.empty:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    js = _exchange_of(exchange)
    rows = [{**_label_row(str(c), g, threshold_uB), **js.get(str(c), {})}
            for c, g in index.groupby("composite", sort=True)]  # fmt: skip
    labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    labels[J_COLUMNS] = labels[J_COLUMNS].astype(float)
    for col in CLASS_TARGETS:
        labels[col] = labels[col].astype("Int64")
    return labels
