"""J1, J2, J3 labels of a composite from its four rectangular-cell runs
(``data_prep.analysis.exchange``).

A campaign made by ``magvox generate --cell rectangular --configs FM AFM-Neel AFM-zigzag
AFM-stripy`` (``make jcampaign``) holds ``<root>/<composite>/<configuration>/magvox_run.json``.
A composite's J's are labels (``J1_meV``, ``J2_meV``, ``J3_meV``: the Heisenberg couplings of the
first three A-A shells, meV, J > 0 ferromagnetic, |S| = 3/2 for Cr; definition in
``data_prep.analysis.exchange``) only when:

* all four runs exist with status ok, in the rectangular cell, with one k-mesh, the same engine
  parameters and the same bond rule (so their total energies compare), and
* the magnetic order stayed: every A site keeps the sign of its initial moment with at least
  ``MIN_SITE_MOMENT_UB`` (a run that relaxed into another pattern measures another equation).

Otherwise the row is kept with ``status`` = the reason and no J's.

    python -m data_prep.analysis.exchange_labels data/campaign_j --out data/exchange_j.csv \
        [--into data/cgt_te.zarr data/cgt_se.zarr]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import J_COLUMNS, J_CONFIGURATIONS
from data_prep.analysis.exchange import NOMINAL_SPIN, bond_sums, fit_exchange
from data_prep.dft.magnetic import sign_pattern
from data_prep.dft.structures import Decoration, a_site_indices, rectangular
from data_prep.io.run_record import find_run_record

MIN_SITE_MOMENT_UB = 1.0  # uB: an A site below this has lost its moment
TABLE_COLUMNS = ["composite", "X", "status", *J_COLUMNS, "E0_eV", "residual_meV", "spin",
                 "kpts", *[f"E_{c}_eV" for c in J_CONFIGURATIONS]]  # fmt: skip


class Unusable(ValueError):
    """The runs of a composite cannot give J's; the message is the reason."""


def _order_kept(rec: dict) -> str | None:
    """None if every A site kept the sign and size of its initial moment, else why not."""
    start = np.asarray(rec.get("initial_moments_uB", []), dtype=float)
    final = np.asarray(rec.get("site_moments_uB", []), dtype=float)
    if start.shape != final.shape or not start.any():
        return "no initial or final site moments recorded"
    sites = np.flatnonzero(start)
    flipped = [int(k) for k in sites if np.sign(final[k]) != np.sign(start[k])]
    small = [int(k) for k in sites if abs(final[k]) < MIN_SITE_MOMENT_UB]
    if flipped or small:
        limit = MIN_SITE_MOMENT_UB
        return f"magnetic order lost: sites {flipped} flipped, {small} below {limit} uB"
    return None


def _check_runs(records: dict[str, dict | None]) -> None:
    """Raise Unusable naming the first configuration that cannot enter the fit."""
    for conf, rec in records.items():
        if rec is None:
            raise Unusable(f"{conf} not computed")
        if rec.get("status") != "ok":
            raise Unusable(f"{conf} {rec.get('status')}: {rec.get('reason')}")
        if rec.get("cell") != "rectangular":
            cell = rec.get("cell", "hexagonal")
            raise Unusable(f"{conf} ran in the {cell} cell, not rectangular")
        lost = _order_kept(rec)
        if lost:
            raise Unusable(f"{conf} {lost}")
    first = next(iter(records.values()))
    for key in ("kpts", "parameters", "geometry"):
        if any(r.get(key) != first.get(key) for r in records.values()):  # type: ignore[union-attr]
            raise Unusable(f"the four runs differ in {key}: energies do not compare")


def composite_exchange(run_dir: Path, spin: float | None = None) -> dict:
    """One table row (TABLE_COLUMNS) for the composite folder ``run_dir``."""
    records = {c: find_run_record(Path(run_dir) / c) for c in J_CONFIGURATIONS}
    row: dict = {"composite": Path(run_dir).name}
    try:
        _check_runs(records)
        dec = Decoration.from_dict(records["FM"]["sites"])  # type: ignore[index]
        row["X"] = dec.x
        if dec.a1 != dec.a2:
            raise Unusable("A1 != A2: one J per shell does not describe two magnetic ions")
        s = spin if spin is not None else NOMINAL_SPIN.get(dec.a1)
        if s is None:
            raise Unusable(f"no nominal spin for {dec.a1} "
                           "(data_prep.analysis.exchange.NOMINAL_SPIN)")
        atoms = rectangular(dec)
        sites = a_site_indices(atoms)
        sums = [bond_sums(atoms, sites, sign_pattern(atoms, sites, c)) for c in J_CONFIGURATIONS]
        energies = [records[c]["energy_eV"] for c in J_CONFIGURATIONS]  # type: ignore[index]
        fit = fit_exchange(np.array(energies), np.array(sums), s)
    except Unusable as why:
        row["status"] = str(why)
        return row
    row.update(dict(zip(J_COLUMNS, fit.j_meV, strict=True)), status="ok", E0_eV=fit.e0_eV,
               residual_meV=fit.residual_meV, spin=fit.spin,
               kpts=",".join(map(str, records["FM"]["kpts"])))  # type: ignore[index]  # fmt: skip
    row.update({f"E_{c}_eV": e for c, e in zip(J_CONFIGURATIONS, energies, strict=True)})
    return row


def exchange_table(root: Path, spin: float | None = None) -> pd.DataFrame:
    """One row per composite folder under ``root`` (columns TABLE_COLUMNS)."""
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    rows = [composite_exchange(p, spin) for p in folders]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m data_prep.analysis.exchange_labels",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", type=Path, help="campaign folder of the rectangular-cell runs")
    p.add_argument("--out", type=Path, required=True, help="CSV table to write")
    p.add_argument("--into", type=Path, nargs="*", default=[], help="datasets to label")
    args = p.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: {args.root} is not a campaign folder", file=sys.stderr)
        return 2
    table = exchange_table(args.root)
    table.to_csv(args.out, index=False, float_format="%.6g")
    ok = int((table["status"] == "ok").sum())
    print(f"{args.out}: {ok} of {len(table)} composites with J1-J3")
    from data_prep.dataset.store import attach_exchange

    for ds in args.into:
        attach_exchange(ds, table)
        print(f"{ds}: J labels attached")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
