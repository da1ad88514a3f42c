"""Per-composite labels from the sample index (docs/CONTRACTS.md).

ground_state: 1 = FM (E_FM < E_AFM-Neel), 0 = AFM; missing (<NA>) unless both exist. FM and Neel
are compared because they share the 10-atom cell and its k-mesh: total energies of the rectangular
cell (zigzag, stripy) are not comparable with them unless FM is computed in that cell too.
moment_uB: the FM run's moment (as reported by the run, else the integral of its spin density).
moment_class: 1 if moment_uB > threshold (4 uB). exchange_energy_eV: E_AFM-Neel - E_FM, eV per cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MOMENT_THRESHOLD_UB = 4.0
LABEL_COLUMNS = ["composite", "ground_state", "moment_uB", "moment_class", "exchange_energy_eV",
                 "energy_FM_eV", "energy_AFM_eV", "afm_configuration", "configurations"]


def _energy(rows: pd.DataFrame, configuration: str) -> float:
    hit = rows.loc[rows["configuration"] == configuration, "energy_eV"].dropna()
    return float(hit.min()) if len(hit) else np.nan


def _label_row(composite: str, rows: pd.DataFrame, threshold_uB: float) -> dict:
    fm = rows[rows["configuration"] == "FM"]
    moment = np.nan
    if len(fm):
        reported = fm["moment_reported_uB"].dropna()
        moment = float(reported.iloc[0]) if len(reported) else float(fm["moment_uB"].iloc[0])
    e_fm = _energy(rows, "FM")
    e_afm = _energy(rows, "AFM-Neel")
    afm_conf = None if np.isnan(e_afm) else "AFM-Neel"
    ground = pd.NA if np.isnan(e_fm) or np.isnan(e_afm) else int(e_fm < e_afm)
    return {
        "composite": composite,
        "ground_state": ground,
        "moment_uB": moment,
        "moment_class": pd.NA if np.isnan(moment) else int(moment > threshold_uB),
        "exchange_energy_eV": e_afm - e_fm,
        "energy_FM_eV": e_fm,
        "energy_AFM_eV": e_afm,
        "afm_configuration": afm_conf,
        "configurations": ",".join(sorted(rows["configuration"].dropna().astype(str).unique())),
    }


def compute_labels(index: pd.DataFrame, threshold_uB: float = MOMENT_THRESHOLD_UB) -> pd.DataFrame:
    """One row per composite (columns LABEL_COLUMNS) from the sample index."""
    if index.empty:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    rows = [_label_row(str(c), g, threshold_uB) for c, g in index.groupby("composite", sort=True)]
    labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    for col in ("ground_state", "moment_class"):
        labels[col] = labels[col].astype("Int64")
    return labels
