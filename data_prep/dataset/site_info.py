"""A sample's atoms in the dataset index: what site moments and per-site tables need.

Index columns (each sample's attrs, and index.parquet):

    species                   list of N element symbols, in the order of the run's file
                              (None: unknown, e.g. a VASP 4 header with no POSCAR beside it)
    frac_coords               N x [x, y, z], fractional coordinates along a, b, c of the
                              sample's ``lattice_A`` (the frame of its density grid), as written
    site_moments_reported_uB  N per-site moments the DFT code reported (GPAW's
                              ``site_moments_uB``, VASP OUTCAR's ``tot``), uB; None if not said

``magvox prep`` fills them from the volumetric file's own header;
``data_prep.dataset.add_structures``
fills them into a store made before they existed, from the run folders' POSCARs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from data_prep.errors import MagvoxInputError
from data_prep.io.outputs import find_output
from data_prep.io.poscar import read_poscar

STRUCTURE_COLUMNS = ("species", "frac_coords")
LATTICE_TOL_A = 1e-4  # POSCAR and CHGCAR headers of one run agree to the digits they are written


def structure_columns(structure: Structure | None) -> dict[str, Any]:
    """{"species": [...], "frac_coords": [[x, y, z], ...]} of ``structure`` (None: unknown)."""
    if structure is None:
        return dict.fromkeys(STRUCTURE_COLUMNS)
    return {"species": [site.specie.symbol for site in structure],
            "frac_coords": [[float(x) for x in site.frac_coords] for site in structure]}


def species_beside(folder: str | Path, header: Structure) -> list[str] | None:
    """Species of a run's POSCAR or CONTCAR when it has the header's sites and lattice (a VASP 4
    CHGCAR names no species); None when neither file fits."""
    for name in ("CONTCAR", "POSCAR"):
        path = find_output(Path(folder), name)
        if path is None:
            continue
        try:
            other, known = read_poscar(path)
        except MagvoxInputError:
            continue
        same_cell = np.allclose(other.lattice.matrix, header.lattice.matrix, atol=LATTICE_TOL_A)
        if known and len(other) == len(header) and same_cell:
            return [site.specie.symbol for site in other]
    return None


def header_structure(header: Structure, species_known: bool, folder: str | Path | None
                     ) -> Structure | None:
    """The structure to record for a volumetric file: its header, with species from the run
    folder's POSCAR/CONTCAR when the header has none; None when species stay unknown."""
    if species_known:
        return header
    species = species_beside(folder, header) if folder is not None else None
    if species is None:
        return None
    return Structure(header.lattice, species, header.frac_coords)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def row_structure(row: Any) -> tuple[list[str], np.ndarray] | None:
    """(species, (N, 3) float64 fractional coordinates) of an index row (a dict or a pandas
    row), or None when the row has no structure (a store made before the columns existed)."""
    species, frac = row.get("species"), row.get("frac_coords")
    if _missing(species) or _missing(frac) or len(species) == 0:
        return None
    coords = np.array([np.asarray(c, dtype=np.float64) for c in frac]).reshape(-1, 3)
    return [str(s) for s in species], coords
