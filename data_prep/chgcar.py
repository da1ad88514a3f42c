"""VASP volumetric files of the CHGCAR family: CHGCAR, CHG, PARCHG, AECCAR*, LOCPOT, ELFCAR.

Convention (VASP): each block stores ``rho * V_cell`` on an Nx x Ny x Nz grid, x fastest, and its
integral is ``sum(block) / N_grid``. Spin-polarized files hold 2 blocks (total = up + down,
magnetization = up - down); non-collinear ones 4 (total, m_x, m_y, m_z). Between blocks VASP writes
augmentation occupancies and a per-atom MAGMOM line (it may span several lines).

magvox stores densities per volume: e/A^3 and uB/A^3, arrays [i, j, k] along a, b, c.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Structure

VASP_DIGITS = 11  # VASP writes E18.11


def _format_block(values: np.ndarray, digits: int) -> str:
    """One grid block as CHGCAR text: x fastest, 5 values per line. ``values`` is (Nx, Ny, Nz)."""
    flat = np.asarray(values, dtype=np.float64).ravel(order="F")
    fmt = f"{{: .{digits}E}}"
    tokens = [fmt.format(v) for v in flat.tolist()]
    lines = [" ".join(tokens[i : i + 5]) for i in range(0, len(tokens), 5)]
    return "\n".join(lines) + "\n"


def _header(structure: Structure, title: str) -> str:
    """VASP 5 POSCAR header with species line, scale factor 1 and direct coordinates."""
    species: list[str] = []
    counts: list[int] = []
    for site in structure:
        symbol = site.specie.symbol
        if species and species[-1] == symbol:
            counts[-1] += 1
        else:
            species.append(symbol)
            counts.append(1)
    lines = [title.replace("\n", " ") or structure.composition.reduced_formula, "   1.0"]
    lines += [" ".join(f"{x: .16f}" for x in row) for row in structure.lattice.matrix]
    lines += ["   " + "   ".join(species), "   " + "   ".join(str(c) for c in counts), "Direct"]
    lines += [" ".join(f"{x: .16f}" for x in site.frac_coords) for site in structure]
    return "\n".join(lines) + "\n"


def write_chgcar(
    path: str | Path,
    structure: Structure,
    total_e_per_A3: np.ndarray,
    magnetization_uB_per_A3: np.ndarray | None = None,
    *,
    title: str | None = None,
    digits: int = VASP_DIGITS,
) -> Path:
    """Write a VASP 5 CHGCAR that pymatgen and VESTA read.

    Args:
        path: output file (plain text; compress afterwards if wanted).
        structure: the cell; its lattice volume V_cell (A^3, |det|) converts densities to rho*V.
        total_e_per_A3: total electron density, e/A^3, shape (Nx, Ny, Nz), [i, j, k] along a, b, c.
        magnetization_uB_per_A3: spin density (up - down), uB/A^3, same shape; None for ISPIN=1.
        title: first line (default: reduced formula).
        digits: mantissa digits (11 as VASP; 16 for a float64-exact file).

    The file holds ``density * V_cell`` (VASP convention), x fastest, 5 values per line. With a
    magnetization block, a per-atom MAGMOM line (site property ``magmom`` or zeros) separates them.
    """
    total = np.asarray(total_e_per_A3, dtype=np.float64)
    if total.ndim != 3:
        raise ValueError(f"total_e_per_A3 must be 3-D (Nx, Ny, Nz), got shape {total.shape}")
    volume = abs(float(np.linalg.det(structure.lattice.matrix)))
    grid = " ".join(f"{n:5d}" for n in total.shape)
    parts = [_header(structure, title or ""), "\n", grid + "\n", _format_block(total * volume, digits)]
    if magnetization_uB_per_A3 is not None:
        mag = np.asarray(magnetization_uB_per_A3, dtype=np.float64)
        if mag.shape != total.shape:
            raise ValueError(f"magnetization shape {mag.shape} != total shape {total.shape}")
        magmom = structure.site_properties.get("magmom") or [0.0] * len(structure)
        parts += [" ".join(f"{float(m): .6f}" for m in magmom) + "\n", grid + "\n"]
        parts.append(_format_block(mag * volume, digits))
    path = Path(path)
    path.write_text("".join(parts))
    return path
