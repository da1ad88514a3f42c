"""Magnetic configurations of the A honeycomb: NM, FM, AFM-Neel, AFM-zigzag, AFM-stripy.

NM, FM and Neel fit the 10-atom cell; zigzag and stripy need the rectangular 4-A cell. A pattern is
defined by its nearest-neighbour (J1) bonds on the honeycomb, which each A has three of:

* FM: 3 parallel neighbours; Neel: 0; zigzag: 2 (ferromagnetic zigzag chains, antiparallel to the
  next chain); stripy: 1. Zigzag and stripy have zero net moment.

The sign pattern is found by enumerating up/down assignments of the cell's A sites (at most 2^4)
against the periodic J1 bond list, so it is right for any cell that holds the pattern.
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

RECTANGULAR = ("AFM-zigzag", "AFM-stripy")
PARALLEL_NEIGHBOURS = {"FM": 3, "AFM-Neel": 0, "AFM-zigzag": 2, "AFM-stripy": 1}

# Initial |moment| (uB) on A sites: a high-spin-ish guess; every A gets at least 1 uB so that a
# nominally non-magnetic A2 (Cu, Y, ...) can still polarize and the SCF decides.
INITIAL_MOMENT = {"Ti": 1.0, "V": 2.0, "Cr": 3.0, "Mn": 4.0, "Fe": 4.0, "Co": 3.0, "Ni": 2.0,
                  "Cu": 1.0, "Y": 1.0, "Nb": 1.0, "Ru": 2.0}  # fmt: skip
DEFAULT_INITIAL_MOMENT = 1.0


def j1_bonds(atoms: Atoms, a_sites: list[int], tol: float = 0.3) -> list[tuple[int, int]]:
    """Nearest-neighbour A-A bonds (i < j counted once per periodic image), as site positions
    in ``a_sites``. The J1 distance is the shortest A-A distance; ``tol`` in A."""
    sub = atoms[a_sites]
    i, j, d = neighbor_list("ijd", sub, float(np.max(sub.cell.lengths())))
    d1 = d.min()
    keep = (d < d1 + tol) & (i < j)
    return [(int(p), int(q)) for p, q in zip(i[keep], j[keep], strict=True)]


def parallel_counts(signs: np.ndarray, bonds: list[tuple[int, int]]) -> np.ndarray:
    """For each A site, how many of its J1 neighbours have the same spin sign."""
    counts = np.zeros(len(signs), dtype=int)
    for p, q in bonds:
        if signs[p] == signs[q]:
            counts[p] += 1
            counts[q] += 1
    return counts


def sign_pattern(atoms: Atoms, a_sites: list[int], configuration: str) -> np.ndarray:
    """+1/-1 per A site realizing ``configuration`` in this cell (first site +1).

    Raises ValueError if the cell cannot hold the pattern (zigzag in the 10-atom cell).
    """
    if configuration not in PARALLEL_NEIGHBOURS:
        raise ValueError(f"configuration {configuration!r} has no sign pattern")
    bonds = j1_bonds(atoms, a_sites)
    coordination = parallel_counts(np.ones(len(a_sites)), bonds)
    if not np.all(coordination == 3):
        raise ValueError(f"A sites are not a honeycomb (J1 neighbours {coordination.tolist()})")
    want = PARALLEL_NEIGHBOURS[configuration]
    for rest in itertools.product((1, -1), repeat=len(a_sites) - 1):
        signs = np.array((1, *rest))
        if configuration != "FM" and signs.sum() != 0:
            continue
        if np.all(parallel_counts(signs, bonds) == want):
            return signs
    raise ValueError(f"{configuration} does not fit a cell with {len(a_sites)} A sites")


def initial_moments(atoms: Atoms, a_sites: list[int], configuration: str) -> np.ndarray:
    """Initial collinear moments (uB) per atom for ``configuration``; zeros for NM."""
    moments = np.zeros(len(atoms))
    if configuration == "NM":
        return moments
    signs = sign_pattern(atoms, a_sites, configuration)
    for s, i in zip(signs, a_sites, strict=True):
        moments[i] = s * INITIAL_MOMENT.get(atoms[i].symbol, DEFAULT_INITIAL_MOMENT)
    return moments
