"""Composite names of the A2B2X6 prototype: ``CrVGe2Te6`` <-> sites A1, A2, B1, B2, X.

The one codec of a composite's name (plain Python, no ASE: models read names with it too).
``data_prep.dft.structures.Decoration`` writes its name and reads one back through here.
"""

from __future__ import annotations

import re

SITES = ("A1", "A2", "B1", "B2", "X")
# Table 1 of the original work: the elements of each site, 1 x 11 x 5 x 3 = 165 composites
TABLE1_A1 = ("Cr",)
TABLE1_A2 = ("Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Y", "Nb", "Ru")
TABLE1_B = (("Ge", "Ge"), ("Ge", "Si"), ("Ge", "P"), ("Si", "Si"), ("P", "P"))
TABLE1_X = ("S", "Se", "Te")
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")


def composite_name(sites: dict[str, str]) -> str:
    """``A1 A2 B1 B2 X6`` with equal neighbours merged: {A1: Cr, A2: Cr, B1: Ge, B2: Ge, X: Te}
    -> ``Cr2Ge2Te6``."""
    a1, a2, b1, b2, x = (sites[s] for s in SITES)
    a = f"{a1}2" if a1 == a2 else f"{a1}{a2}"
    b = f"{b1}2" if b1 == b2 else f"{b1}{b2}"
    return f"{a}{b}{x}6"


def parse_composite(name: str) -> dict[str, str]:
    """``CrVGe2Te6`` -> {A1: Cr, A2: V, B1: Ge, B2: Ge, X: Te} (A2B2X6 prototype, any elements);
    ValueError when the name does not hold 10 atoms."""
    tokens = [(el, int(n or 1)) for el, n in _ELEMENT.findall(name)]
    sites: list[str] = []
    for el, n in tokens:
        sites += [el] * n
    if len(sites) != 10:
        raise ValueError(f"composite {name!r} is not of the A2B2X6 form (10 atoms)")
    return dict(zip(SITES, [*sites[:4], sites[4]], strict=True))


def chalcogen(composite: str) -> str:
    """The X element of an A1 A2 B1 B2 X6 composite name (the last element): ``CrVGe2Te6`` -> Te;
    '' for a name without an element (any name is accepted, as a dataset may hold others)."""
    found = _ELEMENT.findall(composite)
    return found[-1][0] if found else ""
