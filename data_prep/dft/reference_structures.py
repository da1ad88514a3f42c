"""Measured structures of known members of the A2B2X6 family, to check the prototype's bond rule.

Bulk crystals at room temperature (a monolayer is close: van der Waals layers). For the C2/m
MPS3 the honeycomb lattice constant is b / sqrt 3 and the A-A distance b / 3 (their slight
monoclinic distortion of the honeycomb is below 0.5 %). ``a_A``: in-plane lattice constant,
``aa_A``: A-A (J1) distance, ``ax_A``: mean A-X bond, all in A; None where the cited work's bond
lengths are not restated here. Bond lengths are rounded to 0.01 A (the spread of the A-X bonds
within one distorted octahedron is about 0.01-0.02 A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from data_prep.dft.structures import Decoration


@dataclass(frozen=True)
class MeasuredStructure:
    """One measured compound: its decoration of the prototype, lengths in A and the source."""

    compound: str
    decoration: Decoration
    a_A: float
    aa_A: float
    ax_A: float | None
    source: str


def _hexagonal(compound: str, dec: Decoration, a: float, ax: float | None, source: str):
    return MeasuredStructure(compound, dec, a, a / math.sqrt(3), ax, source)


def _monoclinic(compound: str, dec: Decoration, b: float, ax: float | None, source: str):
    return MeasuredStructure(compound, dec, b / math.sqrt(3), b / 3, ax, source)


CARTEAUX_1995 = "Carteaux et al., J. Phys.: Condens. Matter 7, 69 (1995), R-3"
CARTEAUX_1991 = "Carteaux et al., J. Magn. Magn. Mater. 94, 127 (1991), R-3"
OUVRARD_1985 = "Ouvrard, Brec, Rouxel, Mater. Res. Bull. 20, 1181 (1985), C2/m"
WIEDENMANN_1981 = "Wiedenmann et al., Solid State Commun. 40, 1067 (1981), R-3"

MEASURED = (
    _hexagonal("CrGeTe3", Decoration("Cr", "Cr", "Ge", "Ge", "Te"), 6.8275, None, CARTEAUX_1995),
    _hexagonal("CrSiTe3", Decoration("Cr", "Cr", "Si", "Si", "Te"), 6.758, None, CARTEAUX_1991),
    _monoclinic("MnPS3", Decoration("Mn", "Mn", "P", "P", "S"), 10.524, 2.63, OUVRARD_1985),
    _monoclinic("FePS3", Decoration("Fe", "Fe", "P", "P", "S"), 10.300, 2.54, OUVRARD_1985),
    _monoclinic("NiPS3", Decoration("Ni", "Ni", "P", "P", "S"), 10.070, 2.45, OUVRARD_1985),
    _hexagonal("MnPSe3", Decoration("Mn", "Mn", "P", "P", "Se"), 6.387, None, WIEDENMANN_1981),
    _hexagonal("FePSe3", Decoration("Fe", "Fe", "P", "P", "Se"), 6.265, None, WIEDENMANN_1981),
)


def comparison_table() -> str:
    """Markdown table: each measured compound against the prototype under both bond rules.

    Columns (A): measured and prototype A-A distance (the lattice rule, shared by both rules),
    measured A-X bond and the A-X bond of rule ``covalent`` and of rule ``ionic``; '-' where the
    cited work's bond lengths are not restated in ``MEASURED``.
    """
    from data_prep.dft.structures import bond_lengths, lattice_constant

    rows = ["| compound | A-A measured | A-A prototype | A-X measured | A-X `covalent` | "
            "A-X `ionic` | source |", "|---|---|---|---|---|---|---|"]
    for m in MEASURED:
        aa = lattice_constant(m.decoration) / math.sqrt(3)
        cov, ion = (bond_lengths(m.decoration, rule)["AX"] for rule in ("covalent", "ionic"))
        ax = "-" if m.ax_A is None else f"{m.ax_A:.2f}"
        rows.append(f"| {m.compound} | {m.aa_A:.2f} | {aa:.2f} ({100 * (aa / m.aa_A - 1):+.1f}%)"
                    f" | {ax} | {cov:.2f} | {ion:.2f} | {m.source} |")
    return "\n".join(rows)
