"""The composition as a network input: what the chemical formula of A1 A2 B1 B2 X6 says.

A network with ``head=hybrid`` joins its pooled density features with this encoding before its
dense head; ``head=composition`` reads the encoding alone (the density network's fair twin: the
same head, optimiser, epochs and folds, no density). The encoding of one composite (``WIDTH``
floats) is fixed, so a saved model reads any composite of the A2B2X6 form:

- per site role (A1, A2, B, X) a count vector over the elements Z = 1..``MAX_Z``: 1 at the A1
  and A2 elements, the number of each B element (2 for Ge2, 1 and 1 for GeSi), 1 at X;
- per site (A1, A2, B1, B2, X) the element's ``PROPERTY_NAMES``: Z, Pauling electronegativity,
  atomic radius (A), group, period, and the electrons of its outermost d shell (0 without one;
  3d5 for Cr, 4d10 for Te), from pymatgen's element data; NaN where pymatgen has none (the
  network standardises the encoding on its training composites and reads NaN as the mean).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from data_prep.composite import SITES, parse_composite

MAX_Z = 86  # one-hot over H..Rn: every element a DFT campaign of this family would place
ROLES = ("A1", "A2", "B", "X")
PROPERTY_NAMES = ("Z", "electronegativity", "atomic_radius_A", "group", "period", "d_electrons")
WIDTH = len(ROLES) * MAX_Z + len(SITES) * len(PROPERTY_NAMES)


def d_electrons(symbol: str) -> int:
    """Electrons in the element's outermost d shell (Cr 5, V 3, Ge 10, S 0)."""
    from pymatgen.core import Element

    shells = [(n, occ) for n, orbital, occ in Element(symbol).full_electronic_structure
              if orbital == "d"]
    return int(max(shells)[1]) if shells else 0


@functools.cache
def element_properties(symbol: str) -> tuple[float, ...]:
    """The ``PROPERTY_NAMES`` of one element, NaN where pymatgen has no value."""
    from pymatgen.core import Element

    e = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "No Pauling electronegativity for Ar"
        x, radius = float(e.X), e.atomic_radius
    return (float(e.Z), x, float("nan") if radius is None else float(radius), float(e.group),
            float(e.row), float(d_electrons(symbol)))


def encode(composites: list[str]) -> np.ndarray:
    """(N, WIDTH) float32 encoding of composite names (``CrVGe2Te6``); ValueError naming the
    composite when a name is not of the A2B2X6 form or holds an element beyond Z = MAX_Z."""
    out = np.zeros((len(composites), WIDTH), dtype=np.float32)
    for i, name in enumerate(composites):
        sites = parse_composite(name)
        elements = {"A1": [sites["A1"]], "A2": [sites["A2"]], "B": [sites["B1"], sites["B2"]],
                    "X": [sites["X"]]}
        for r, role in enumerate(ROLES):
            for symbol in elements[role]:
                z = int(element_properties(symbol)[0])
                if not 1 <= z <= MAX_Z:
                    raise ValueError(f"composite {name!r}: {symbol} (Z = {z}) is beyond the "
                                     f"composition encoding's elements (Z <= {MAX_Z})")
                out[i, r * MAX_Z + z - 1] += 1.0
        props = [v for s in SITES for v in element_properties(sites[s])]
        out[i, len(ROLES) * MAX_Z:] = props
    return out


def composition_input(head: str, composites: list[str], device: torch.device
                      ) -> torch.Tensor | None:
    """(S, WIDTH) float32 encoding on ``device`` for a model whose ``head`` reads the
    composition (``hybrid``, ``composition``); None for ``cnn``."""
    if head == "cnn":
        return None
    try:
        return torch.as_tensor(encode(composites)).to(device)
    except ValueError as exc:
        raise ValueError(f"head={head} reads the composition from the composite names: "
                         f"{exc}") from exc
