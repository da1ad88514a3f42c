"""Heisenberg mapping of the A honeycomb: J1, J2, J3 and E0 from total energies.

Model (Sivadas et al., PRB 91, 235425 (2015), same definitions; stated here, in the code that
fits it, and in the dataset card):

    E(c) = E0 - sum_{n=1..3} J_n sum_{<ij> in shell n} S_i . S_j

* E(c): DFT total energy of configuration c in eV per calculation cell; every configuration of a
  fit shares one cell (the rectangular 4-A cell) and one k-mesh, so E0 (eV per cell, the energy
  without the spin-spin terms) is common to all.
* <ij>: each A-A pair of shell n counted once (the pair ij and ji together), over the pairs with
  i in the cell and j anywhere in the crystal; shells by distance on the honeycomb: J1 nearest
  (a/sqrt 3, 3 neighbours), J2 second (a, 6), J3 third (2a/sqrt 3, 3).
* Collinear spins S_i = s_i S with s_i = +-1 the sign pattern of c and |S| the nominal spin of the
  A ion (S = 3/2 for Cr3+, d3), so S_i . S_j = s_i s_j S^2.
* J_n > 0 is ferromagnetic (lowers the energy of parallel spins); J_n in meV.

So E(c) = E0 - S^2 sum_n J_n C_n(c), with C_n(c) = sum_<ij> s_i s_j per cell (``bond_sums``). In the
4-A cell: FM (6, 12, 6), Neel (-6, 12, -6), zigzag (2, -4, -6), stripy (-2, -4, 6): four equations,
four unknowns, solved as least squares so that further configurations fit in unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

SHELLS = 3
# |S| of the A ion in the mapping: Cr3+ is d3, S = 3/2. Other A ions need their own entry (or an
# explicit ``spin``): their valence, and so S, is not fixed by the A2B2X6 formula alone.
NOMINAL_SPIN = {"Cr": 1.5}
SHELL_TOL_A = 0.05  # A: distances within this of each other belong to one shell


@dataclass(frozen=True)
class ExchangeFit:
    """Result of the least-squares mapping.

    Attributes:
        j_meV: (J1, J2, J3) in meV, J > 0 ferromagnetic.
        e0_eV: E0, eV per calculation cell.
        residual_meV: root-mean-square misfit of the energies, meV per cell (0 when the number of
            configurations equals the number of unknowns).
        spin: the |S| used.
    """

    j_meV: tuple[float, float, float]
    e0_eV: float
    residual_meV: float
    spin: float


def shell_distances(atoms: Atoms, a_sites: list[int], shells: int = SHELLS) -> np.ndarray:
    """The first ``shells`` A-A neighbour distances (A), shortest first."""
    sub = atoms[a_sites]
    cutoff = 2.5 * _nearest(sub)
    d = neighbor_list("d", sub, cutoff)
    found: list[float] = []
    for x in np.sort(d):
        if not found or x - found[-1] > SHELL_TOL_A:
            found.append(float(x))
    if len(found) < shells:
        raise ValueError(f"only {len(found)} A-A shells within {cutoff:.1f} A, need {shells}")
    return np.array(found[:shells])


def _nearest(sub: Atoms) -> float:
    d = neighbor_list("d", sub, float(np.max(sub.cell.lengths()[:2])))
    return float(d.min())


def bond_sums(
    atoms: Atoms, a_sites: list[int], signs: np.ndarray, shells: int = SHELLS
) -> np.ndarray:
    """C_n = sum over the shell-n pairs of the cell (each pair once) of s_i s_j; (shells,) float.

    Pairs run over i in the cell and every periodic image j (also images of i itself, which a
    small cell has in its J2 shell): the infinite pattern's sums per cell, whatever the cell.
    """
    sub = atoms[a_sites]
    dist = shell_distances(atoms, a_sites, shells)
    i, j, d = neighbor_list("ijd", sub, float(dist[-1]) + SHELL_TOL_A)
    shell = np.abs(d[:, None] - dist[None, :]).argmin(axis=1)
    products = np.asarray(signs)[i] * np.asarray(signs)[j]
    return np.array([products[shell == n].sum() / 2 for n in range(shells)], dtype=float)


def design_matrix(sums: np.ndarray, spin: float) -> np.ndarray:
    """Rows [1, -S^2 C_1, -S^2 C_2, -S^2 C_3] per configuration: E = M @ (E0, J1, J2, J3)."""
    sums = np.atleast_2d(np.asarray(sums, dtype=float))
    return np.hstack([np.ones((len(sums), 1)), -(spin**2) * sums])


def fit_exchange(energies_eV: np.ndarray, sums: np.ndarray, spin: float) -> ExchangeFit:
    """Least-squares E0 and J1..J3 from energies (eV per cell) and bond sums (configs, shells).

    Raises ValueError when the configurations do not determine every J (rank below 1 + shells).
    """
    m = design_matrix(sums, spin)
    e = np.asarray(energies_eV, dtype=float)
    if m.shape[0] != len(e):
        raise ValueError(f"{len(e)} energies for {m.shape[0]} configurations")
    coef, _, rank, _ = np.linalg.lstsq(m, e, rcond=None)
    if rank < m.shape[1]:
        raise ValueError(f"configurations fix only {rank} of E0, J1..J{m.shape[1] - 1}")
    rms = float(np.sqrt(np.mean((m @ coef - e) ** 2))) * 1e3
    j1, j2, j3 = (float(x) * 1e3 for x in coef[1:])
    return ExchangeFit(j_meV=(j1, j2, j3), e0_eV=float(coef[0]), residual_meV=rms, spin=spin)
