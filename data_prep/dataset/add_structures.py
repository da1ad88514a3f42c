"""Give a store made before samples carried their atoms its structures, without touching a density.

    python -m data_prep.dataset.add_structures data/cgt_te.zarr data/campaign      (or: make
    structures)

Each sample's run folder is ``<runs>/<composite>/<configuration>/`` (the layout ``magvox
generate`` writes). From its POSCAR each sample gets ``species`` and ``frac_coords``, from its
magvox_run.json (or OUTCAR) ``site_moments_reported_uB`` (data_prep.dataset.site_info), and its
recorded
``source`` becomes relative to the store's parent folder (data_prep.dataset.store.stored_source).

Every run folder is read and checked first (POSCAR lattice = the sample's ``lattice_A`` within
1e-4 A, same composition, same total energy as the sample recorded): one mismatch and nothing is
written. Then each changed sample's attrs are rewritten by an atomic rename of its zarr.json and
index.parquet last, so a kill leaves every file whole and a re-run finishes the job. Density
chunks are never read or written. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition

from data_prep.dataset.site_info import LATTICE_TOL_A, structure_columns
from data_prep.dataset.store import rebuild_index, sample_rows, stored_source, update_sample_attrs
from data_prep.errors import MagvoxInputError
from data_prep.io.outputs import find_output, read_run_outputs
from data_prep.io.poscar import read_poscar

ENERGY_TOL_EV = 1e-6  # the record and the sample hold the same float, written twice


def _check(row: dict, folder: Path, structure: Any, energy: float | None) -> None:
    """MagvoxInputError naming the POSCAR when it is not the structure of ``row``'s density."""
    poscar = folder / "POSCAR"
    lattice = np.asarray(row["lattice_A"], dtype=float).reshape(3, 3)
    if not np.allclose(structure.lattice.matrix, lattice, atol=LATTICE_TOL_A):
        found, wanted = (np.linalg.norm(m, axis=1).round(4).tolist()
                         for m in (structure.lattice.matrix, lattice))
        raise MagvoxInputError(poscar, f"lattice |a|, |b|, |c| = {found} A, the sample's "
                                       f"lattice_A {wanted} A (or another orientation)")
    if row.get("formula") and Composition(row["formula"]) != structure.composition:
        raise MagvoxInputError(poscar, f"holds {structure.composition.formula}, the sample "
                                       f"{row['formula']}")
    recorded = row.get("energy_eV")
    if energy is not None and recorded is not None and abs(energy - recorded) > ENERGY_TOL_EV:
        raise MagvoxInputError(folder, f"run energy {energy} eV is not the sample's {recorded} "
                                       "eV (the run was redone after prep: prep it again)")


def run_columns(store: Path, runs: Path, row: dict) -> dict[str, Any]:
    """The new attr values of one sample, read from its run folder (MagvoxInputError if they
    cannot be trusted)."""
    folder = runs / row["composite"] / row["configuration"]
    poscar = find_output(folder, "POSCAR")
    if poscar is None:
        raise MagvoxInputError(folder, "no POSCAR (is this the campaign the store came from?)")
    structure, species_known = read_poscar(poscar)
    if not species_known:
        raise MagvoxInputError(poscar, "VASP 4 POSCAR: no species line")
    out = read_run_outputs(folder)
    _check(row, folder, structure, out.energy_eV if out else None)
    sites = out.site_moments_uB if out else None
    return {**structure_columns(structure),
            "site_moments_reported_uB": sites if sites and len(sites) == len(structure) else None,
            "source": stored_source(store, folder / Path(row["source"]).name)}


def planned_updates(store: str | Path, runs: str | Path) -> dict[str, dict[str, Any]]:
    """sample_id -> the attr values that change; ValueError listing every sample whose run
    folder is missing or does not match (nothing is written by this function)."""
    store, runs = Path(store), Path(runs)
    if not (store / "zarr.json").is_file():
        raise ValueError(f"{store}: not a magvox dataset (no zarr.json)")
    updates, problems = {}, []
    for row in sample_rows(store):
        try:
            new = run_columns(store, runs, row)
        except MagvoxInputError as exc:
            problems.append(str(exc))
            continue
        changed = {k: v for k, v in new.items() if row.get(k) != v}
        if changed:
            updates[row["sample_id"]] = changed
    if problems:
        listed = "\n  ".join(problems[:10])
        raise ValueError(f"{store}: {len(problems)} samples have no matching run under {runs}, "
                         f"nothing written:\n  {listed}")
    return updates


def add_structures(store: str | Path, runs: str | Path) -> int:
    """Fill the structure columns of ``store``'s samples from ``runs`` in place; returns how
    many samples changed (0 on a re-run)."""
    updates = planned_updates(store, runs)
    for sample_id, values in updates.items():
        update_sample_attrs(store, sample_id, values)
    if updates:
        rebuild_index(store)
    return len(updates)


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m data_prep.dataset.add_structures STORE RUNS``; exit 2 with one message when
    a
    run does not match."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="the dataset (DS.zarr)")
    parser.add_argument("runs", help="the campaign folder its samples were prepared from")
    args = parser.parse_args(argv)
    try:
        n = add_structures(args.store, args.runs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.store}: {n} samples updated from {args.runs} (atoms, site moments, source)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
