"""The k-point mesh of a run, the one rule of both engines (GPAW runs, VASP inputs).

A mesh is given for the 10-atom hexagonal cell (``DEFAULT_KPTS``, 4x4x1 Monkhorst-Pack); a cell
whose b differs from a (the rectangular 4-A cell: b = sqrt 3 a) gets kb scaled by a/b, so that every
cell of a campaign samples the Brillouin zone with the same reciprocal density.
"""

from __future__ import annotations

from typing import Any

DEFAULT_KPTS: tuple[int, int, int] = (4, 4, 1)


def cell_kpts(atoms: Any, kpts: tuple[int, int, int]) -> tuple[int, int, int]:
    """The mesh of ``atoms``' cell (ASE Atoms) for ``kpts`` given for the 10-atom cell."""
    lengths = atoms.cell.lengths()
    return (kpts[0], max(1, round(kpts[1] * lengths[0] / lengths[1])), kpts[2])
