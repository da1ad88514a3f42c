"""The one typed object every volumetric reader returns, and the format table that picks a reader.

Units and axes: densities per volume, ``total_e_per_A3`` in e/A^3 and ``magnetization_uB_per_A3``
in uB/A^3, float64 arrays of shape (Nx, Ny, Nz) indexed [i, j, k] along lattice vectors a, b, c.
Integrals follow VASP's rho*V convention: ``sum(density) * V_cell / N_grid``.
"""

from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pymatgen.core import Structure

from data_prep import DEFAULT_MAGNETIZATION, MAGNETIZATION_CHOICES
from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import strip_compression

SpinKind = Literal["none", "collinear", "noncollinear"]
Quantity = Literal["density", "potential", "elf"]

# format name -> (module in data_prep, reader function, what the values are, file-name patterns).
# Patterns match the base name without .gz/.bz2/.xz, case-insensitively; first match wins.
FORMATS: dict[str, tuple[str, str, Quantity, tuple[str, ...]]] = {
    "PARCHG": ("chgcar", "read_chgcar", "density", ("*parchg*",)),
    "AECCAR": ("chgcar", "read_chgcar", "density", ("*aeccar[012]*",)),
    "ELFCAR": ("chgcar", "read_chgcar", "elf", ("*elfcar*",)),
    "LOCPOT": ("chgcar", "read_chgcar", "potential", ("*locpot*",)),
    "CHGCAR": ("chgcar", "read_chgcar", "density", ("*chgcar*",)),
    "CHG": ("chgcar", "read_chgcar", "density", ("chg", "*.chg", "chg.*", "chg_*", "*_chg")),
    "cube": ("cube", "read_cube", "density", ("*.cube", "*.cub")),
}


@dataclass(frozen=True, eq=False)
class VolumetricData:
    """A volumetric file, read and checked.

    Attributes:
        structure: the cell and its atoms (pymatgen Structure, A).
        total_e_per_A3: (Nx, Ny, Nz) float64, e/A^3 (for LOCPOT: eV; ELFCAR: ELF, as in the file).
        magnetization_uB_per_A3: (Nx, Ny, Nz) float64, uB/A^3 (m_z or the chosen component for
            non-collinear files), or None when the file has no spin block.
        spin_kind: "none" (1 block), "collinear" (2 blocks) or "noncollinear" (4 blocks).
        source: the file read. sha256: SHA-256 of its decompressed content. format: key of FORMATS.
        quantity: "density" (CHGCAR family, cube), "potential" (LOCPOT) or "elf" (ELFCAR).
        species_known: False for a VASP 4 header (no element line; pymatgen names them H).
        magnetization_component: "z", "x", "y" or "norm" for non-collinear data, else None/"z".
    """

    structure: Structure
    total_e_per_A3: np.ndarray
    magnetization_uB_per_A3: np.ndarray | None
    spin_kind: SpinKind
    source: str
    sha256: str
    format: str
    quantity: Quantity = "density"
    species_known: bool = True
    magnetization_component: str | None = None

    @property
    def lattice(self) -> np.ndarray:
        """(3, 3) lattice vectors a, b, c as rows, A."""
        return self.structure.lattice.matrix

    @property
    def grid(self) -> tuple[int, int, int]:
        """(Nx, Ny, Nz) grid points along a, b, c."""
        return tuple(int(n) for n in self.total_e_per_A3.shape)  # type: ignore[return-value]

    @property
    def volume_A3(self) -> float:
        """Cell volume |det(lattice)|, A^3 (left-handed lattices have det < 0)."""
        return abs(float(np.linalg.det(self.lattice)))

    @property
    def formula(self) -> str | None:
        """Chemical formula, or None when the header has no species (VASP 4)."""
        return self.structure.composition.formula if self.species_known else None

    def _integral(self, array: np.ndarray | None) -> float | None:
        if array is None or self.quantity != "density":
            return None
        return float(array.sum() * self.volume_A3 / array.size)

    def electrons(self) -> float | None:
        """Integral of the total density: the electron count (None for LOCPOT/ELFCAR)."""
        return self._integral(self.total_e_per_A3)

    def moment(self) -> float | None:
        """Integral of the magnetization density: the cell's moment, uB (None without spin)."""
        return self._integral(self.magnetization_uB_per_A3)

    def abs_moment(self) -> float | None:
        """Integral of |magnetization density|, uB (large for antiferromagnets)."""
        m = self.magnetization_uB_per_A3
        return None if m is None else self._integral(np.abs(m))


def detect_format(path: str | Path) -> str:
    """Key of FORMATS for a file name; MagvoxInputError when no pattern matches."""
    name = strip_compression(Path(path).name).lower()
    for fmt, (_, _, _, patterns) in FORMATS.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return fmt
    known = ", ".join(FORMATS)
    raise MagvoxInputError(path, f"unknown volumetric format (file name matches none of {known})")


def is_volumetric_name(path: str | Path) -> bool:
    """True when the file name matches a known volumetric format."""
    try:
        detect_format(path)
    except MagvoxInputError:
        return False
    return True


def read_volumetric(
    path: str | Path, magnetization: str = DEFAULT_MAGNETIZATION, format: str | None = None
) -> VolumetricData:
    """Read any supported volumetric file (format from the name unless given).

    ``magnetization`` picks the spin density of non-collinear files: "z" (default), "x", "y" or
    "norm" (|m|). Raises MagvoxInputError naming the file and what is wrong.
    """
    if magnetization not in MAGNETIZATION_CHOICES:
        raise ValueError(f"magnetization must be one of {MAGNETIZATION_CHOICES}: {magnetization!r}")
    fmt = format or detect_format(path)
    module, func, quantity, _ = FORMATS[fmt]
    reader = getattr(importlib.import_module(f"data_prep.io.{module}"), func)
    return reader(path, magnetization=magnetization, format=fmt, quantity=quantity)
