"""Gaussian cube files: atomic units on disk (bohr, e/bohr^3), converted to A and e/A^3.

Layout: two comment lines; ``natoms ox oy oz``; three lines ``N_i v_ix v_iy v_iz`` (voxel vectors,
bohr, or A when N_i < 0); natoms lines ``Z charge x y z``; then Nx*Ny*Nz values, z fastest.
A cube holds one scalar field: it is read as the total density (spin_kind "none").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.core.periodic_table import Element

from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import read_bytes, sha256_hex
from data_prep.io.volumetric import VolumetricData

BOHR_A = 0.529177210903  # CODATA 2018


def _numbers(path: Path, line: str, count: int, lineno: int) -> list[float]:
    tokens = line.split()
    try:
        values = [float(t) for t in tokens[:count]]
    except ValueError:
        msg = f"line {lineno}: expected numbers, got {line.strip()!r}"
        raise MagvoxInputError(path, msg) from None
    if len(values) < count:
        raise MagvoxInputError(path, f"line {lineno}: expected {count} numbers, got {len(tokens)}")
    return values


def _header(path: Path, lines: list[str]) -> tuple[Structure, tuple[int, int, int], int]:
    """Structure (A), grid and the index of the first data line."""
    if len(lines) < 6:
        raise MagvoxInputError(path, "cube header needs at least 6 lines (truncated?)")
    natoms = int(_numbers(path, lines[2], 4, 3)[0])
    grid, vectors = [], []
    for i in range(3):
        n, *vec = _numbers(path, lines[3 + i], 4, 4 + i)
        unit = BOHR_A if n > 0 else 1.0
        grid.append(abs(int(n)))
        vectors.append(np.array(vec) * unit * abs(int(n)))
    if min(grid) < 1 or len(lines) < 6 + abs(natoms):
        raise MagvoxInputError(path, f"bad grid {grid} or missing atom lines")
    unit = BOHR_A if grid and int(_numbers(path, lines[3], 1, 4)[0]) > 0 else 1.0
    origin = np.array(_numbers(path, lines[2], 4, 3)[1:]) * unit
    species, coords = [], []
    for k in range(abs(natoms)):
        z, _, *xyz = _numbers(path, lines[6 + k], 5, 7 + k)
        species.append(Element.from_Z(int(z)) if int(z) > 0 else "X0+")
        coords.append(np.array(xyz) * unit - origin)
    start = 6 + abs(natoms) + (1 if natoms < 0 else 0)  # MO cubes carry one extra line
    lattice = Lattice(np.array(vectors))
    structure = Structure(lattice, species, coords, coords_are_cartesian=True)
    return structure, (grid[0], grid[1], grid[2]), start


def read_cube(
    path: str | Path, magnetization: str = "z", format: str = "cube", quantity: str = "density"
) -> VolumetricData:
    """Read a Gaussian cube; density e/bohr^3 -> e/A^3, array (Nx, Ny, Nz) [i, j, k] along a, b, c.

    ``magnetization`` is accepted for a uniform reader signature; a cube has no spin block.
    """
    path = Path(path)
    data = read_bytes(path)
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise MagvoxInputError(path, "not a text file (binary or garbled)") from None
    structure, grid, start = _header(path, lines)
    if not data.rstrip(b" \t\r").endswith(b"\n"):
        raise MagvoxInputError(path, "last line has no line end (file truncated?)")
    tokens = " ".join(lines[start:]).split()
    expected = grid[0] * grid[1] * grid[2]
    if len(tokens) != expected:
        raise MagvoxInputError(path, f"grid {grid} needs {expected} values, found {len(tokens)}")
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError as exc:
        raise MagvoxInputError(path, f"non-numeric value in the data: {exc}") from None
    if not np.isfinite(values).all():
        raise MagvoxInputError(path, "data contains NaN or inf")
    return VolumetricData(
        structure=structure,
        total_e_per_A3=values.reshape(grid) / BOHR_A**3,
        magnetization_uB_per_A3=None,
        spin_kind="none",
        source=str(path),
        sha256=sha256_hex(data),
        format=format,
        quantity=quantity,  # type: ignore[arg-type]
    )
