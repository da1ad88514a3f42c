"""VASP POSCAR/CONTCAR: the structure a run was computed at (also the header of every CHGCAR).

Lattice vectors in A (the scale factor applied), fractional coordinates along a, b, c, sites in
file order. A VASP 4 file has no species line (pymatgen then names the atoms after POTCAR-less
placeholders): ``species_known`` says so, and such species must not be trusted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.vasp.inputs import Poscar

from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import read_bytes


def parse_poscar(path: str | Path, text: str) -> tuple[Structure, bool]:
    """(structure, species_known) from POSCAR text; MagvoxInputError naming ``path`` when the
    text is unreadable, the lattice degenerate or a coordinate not finite."""
    lines = text.splitlines()
    species_known = len(lines) > 5 and not all(t.isdigit() for t in lines[5].split())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Poscar.from_str(text).structure
    except Exception as exc:  # pymatgen raises many types on a damaged header
        raise MagvoxInputError(path, f"structure header unreadable: {exc}") from None
    if abs(structure.lattice.volume) < 1e-8 or not np.isfinite(structure.lattice.matrix).all():
        raise MagvoxInputError(path, "structure header: degenerate or non-finite lattice")
    if not np.isfinite(structure.frac_coords).all():
        raise MagvoxInputError(path, "structure header: non-finite atomic coordinates")
    return structure, species_known


def read_poscar(path: str | Path) -> tuple[Structure, bool]:
    """(structure, species_known) of a POSCAR or CONTCAR file (plain or compressed)."""
    try:
        text = read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise MagvoxInputError(path, "not a text file") from None
    return parse_poscar(path, text)
