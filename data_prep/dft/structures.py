"""The A2B2X6 monolayer prototype (Cr2Ge2Te6 family), decorated with any elements.

Geometry rule (no relaxation by default; stated here and in the dataset card):

* Reference: monolayer Cr2Ge2Te6 with a = 6.83 A (experiment), Cr-Te = 2.78 A, Ge-Te = 2.59 A,
  Ge-Ge = 2.47 A (PBE-relaxed values from the literature).
* Bond lengths of a decoration come from ``data_prep.dft.bond_rules``: rule ``covalent`` (sums of
  Cordero covalent radii scaled so the reference bonds are exact; the Te and Se campaigns) or
  ``ionic`` (the default since: A-X from Shannon high-spin ionic radii at the charge-balance
  valence, so that MnPS3-like Mn2+ is not compressed; B-X and B-B as ``covalent``).
* In-plane lattice constant, both rules: a = 6.83 A * d_AX / d_CrTe, with rule 1's d_AX from the
  mean covalent radius of A1, A2 (the packing of the layer; measured a within 3 %,
  ``data_prep.dft.reference_structures``).
* The two A sit on the honeycomb at (1/3, 2/3, 0) and (2/3, 1/3, 0); the B-B dimer through the
  hole at (0, 0, +-d_BB/2); the three X above (below) sit on the mirror lines of the hole at radius
  r from the dimer axis and height +h (-h), with (r, h) solved so that every X is at d_AX from its
  two A and at d_BX from its B (B1 above, B2 below, so mixed pairs get their own heights).
* Vacuum box: c = 20 A, the layer centred at c/2; periodic in all three directions.

Atom order: A1, A2, B1 (top), B2 (bottom), X top x3, X bottom x3.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from data_prep.composite import (
    SITES,
    TABLE1_A1,
    TABLE1_A2,
    TABLE1_B,
    TABLE1_X,
    composite_name,
    parse_composite,
)
from data_prep.dft.bond_rules import D_AX_REF, DEFAULT_RULE, bond_lengths_for, covalent_radius

A_REF = 6.83  # A, Cr2Ge2Te6
C_BOX = 20.0  # A, vacuum box height



@dataclass(frozen=True)
class Decoration:
    """Which element sits on each site of the A2B2X6 prototype."""

    a1: str
    a2: str
    b1: str
    b2: str
    x: str

    def __post_init__(self) -> None:
        for field in ("a1", "a2", "b1", "b2", "x"):
            covalent_radius(getattr(self, field))

    @property
    def name(self) -> str:
        """Composite name, ``A1 A2 B1 B2 X6`` with equal neighbours merged (``Cr2Ge2Te6``;
        ``data_prep.composite``)."""
        return composite_name(self.as_dict())

    def as_dict(self) -> dict[str, str]:
        return dict(zip(SITES, (self.a1, self.a2, self.b1, self.b2, self.x), strict=True))

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Decoration:
        return cls(*(d[s] for s in SITES))

    @classmethod
    def from_name(cls, name: str) -> Decoration:
        """The decoration a composite name says (``CrVGe2Te6``); ValueError when it cannot."""
        return cls.from_dict(parse_composite(name))


def table1(x: tuple[str, ...] = TABLE1_X) -> list[Decoration]:
    """Table 1 of the original work: A1 = Cr, 11 A2, 5 B pairs, the given X (165 for all three)."""
    return decorations(list(TABLE1_A1), list(TABLE1_A2), list(TABLE1_B), list(x))


def decorations(
    a1: list[str], a2: list[str], b: list[tuple[str, str]], x: list[str]
) -> list[Decoration]:
    """All combinations of the given site elements, in a stable order."""
    return [Decoration(p, q, b1, b2, s) for s, p, (b1, b2), q in itertools.product(x, a1, b, a2)]


def bond_lengths(dec: Decoration, rule: str = DEFAULT_RULE) -> dict[str, float]:
    """Target bond lengths in A: ``AX`` (mean A), ``B1X``, ``B2X``, ``BB`` and ``AX_packing``
    (the A-X length the lattice constant follows), under ``rule`` (``data_prep.dft.bond_rules``)."""
    return bond_lengths_for(rule, dec.a1, dec.a2, dec.b1, dec.b2, dec.x)


def lattice_constant(dec: Decoration) -> float:
    """In-plane lattice constant a (A): 6.83 A scaled by rule 1's A-X (both rules)."""
    return A_REF * bond_lengths(dec, "covalent")["AX"] / D_AX_REF


def _solve_x_layer(a: float, d_ax: float, d_bx: float, z_b: float) -> tuple[float, float]:
    """Radius r (from the dimer axis) and height h of an X layer, in A.

    Solves |X - A| = d_ax and |X - B| = d_bx, with B at (0, 0, z_b) and the two A neighbours of
    an X at in-plane offset (a/2 - r, +-a/(2 sqrt 3)) from it. Bisection on r.
    """

    def mismatch(r: float) -> float:
        h2 = d_ax**2 - (a / 2 - r) ** 2 - a**2 / 12
        if h2 <= 0:
            return -1.0
        return r**2 + (math.sqrt(h2) - z_b) ** 2 - d_bx**2

    lo, hi = 0.5 * a / 3, a / 2
    if mismatch(lo) * mismatch(hi) > 0:
        raise ValueError(f"no X position fits d_AX={d_ax:.2f} A, d_BX={d_bx:.2f} A, a={a:.2f} A")
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mismatch(lo) * mismatch(mid) <= 0:
            hi = mid
        else:
            lo = mid
    r = 0.5 * (lo + hi)
    return r, math.sqrt(d_ax**2 - (a / 2 - r) ** 2 - a**2 / 12)


def prototype(dec: Decoration, rule: str = DEFAULT_RULE) -> Atoms:
    """The 10-atom hexagonal cell of ``dec`` (A, pbc in 3D, layer at c/2) under bond ``rule``."""
    d = bond_lengths(dec, rule)
    a = lattice_constant(dec)
    cell = np.array([[a, 0, 0], [-a / 2, a * math.sqrt(3) / 2, 0], [0, 0, C_BOX]])
    z0 = C_BOX / 2
    zb1, zb2 = d["BB"] / 2, d["BB"] / 2
    r_top, h_top = _solve_x_layer(a, d["AX"], d["B1X"], zb1)
    r_bot, h_bot = _solve_x_layer(a, d["AX"], d["B2X"], zb2)
    ideal = a / 3  # distance of the ideal X site from the hole axis
    top = [(1 / 3, 0.0), (0.0, 1 / 3), (-1 / 3, -1 / 3)]  # directions of the top X from the hole
    bot = [(-1 / 3, 0.0), (0.0, -1 / 3), (1 / 3, 1 / 3)]
    frac = [(1 / 3, 2 / 3, z0), (2 / 3, 1 / 3, z0), (0.0, 0.0, z0 + zb1), (0.0, 0.0, z0 - zb2)]
    positions = [np.array([f[0], f[1], 0.0]) @ cell + np.array([0.0, 0.0, f[2]]) for f in frac]
    for dirs, r, z in ((top, r_top, z0 + h_top), (bot, r_bot, z0 - h_bot)):
        for u, v in dirs:
            p = np.array([u, v, 0.0]) @ cell * (r / ideal)
            positions.append(p + np.array([0.0, 0.0, z]))
    symbols = [dec.a1, dec.a2, dec.b1, dec.b2] + [dec.x] * 6
    atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
    atoms.wrap()
    return atoms


def a_site_indices(atoms: Atoms) -> list[int]:
    """Indices of the A sites (the honeycomb), by construction order of prototype/rectangular."""
    return [i for i in range(len(atoms)) if i % 10 in (0, 1)]


def rectangular(dec: Decoration, rule: str = DEFAULT_RULE) -> Atoms:
    """The rectangular 20-atom cell (4 A sites): a_rect = a1, b_rect = a1 + 2 a2 (length a sqrt 3).

    Holds the zigzag and stripy patterns, which the 10-atom cell cannot.
    """
    hexagonal = prototype(dec, rule)
    atoms = hexagonal.repeat((1, 2, 1))  # atoms 0-9 cell 1, 10-19 cell 2 (same site order)
    a1, a2, a3 = hexagonal.cell[:]
    atoms.set_cell([a1, a1 + 2 * a2, a3], scale_atoms=False)
    atoms.wrap()
    return atoms
