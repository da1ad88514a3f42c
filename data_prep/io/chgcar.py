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

from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import read_bytes, sha256_hex
from data_prep.io.poscar import parse_poscar
from data_prep.io.vasp_blocks import LayoutError, parse_blocks
from data_prep.io.volumetric import VolumetricData

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
    parts = [_header(structure, title or ""), "\n", grid + "\n"]
    parts.append(_format_block(total * volume, digits))
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


def _split_header(path: Path, data: bytes) -> tuple[str, int]:
    """The POSCAR header (up to the first blank line) and the byte offset where data begins."""
    pos, nlines = 0, 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise MagvoxInputError(path, "no blank line after the structure header (truncated?)")
        line = data[pos:end]
        pos, nlines = end + 1, nlines + 1
        if nlines > 1 and not line.strip():
            try:
                return data[:end].decode("utf-8"), pos
            except UnicodeDecodeError:
                raise MagvoxInputError(path, "header is not text (binary or garbled)") from None
        if nlines > 100_000:
            raise MagvoxInputError(path, "no blank line after the structure header")


def _pick_magnetization(blocks: list[np.ndarray], component: str) -> np.ndarray | None:
    """Magnetization block (raw rho*V): the second of two; of four, m_x/m_y/m_z or |m|."""
    if len(blocks) == 2:
        return blocks[1]
    if len(blocks) == 4:
        if component == "norm":
            return np.sqrt(blocks[1] ** 2 + blocks[2] ** 2 + blocks[3] ** 2)
        return blocks[{"x": 1, "y": 2, "z": 3}[component]]
    return None


def read_chgcar(
    path: str | Path, magnetization: str = "z", format: str = "CHGCAR", quantity: str = "density"
) -> VolumetricData:
    """Read a CHGCAR-family file (plain, .gz, .bz2, .xz) into a checked VolumetricData.

    Densities are divided by V_cell = |det(lattice)| (e/A^3, uB/A^3); LOCPOT (eV) and ELFCAR
    values are kept as written. Raises MagvoxInputError naming the file, line and problem.
    """
    path = Path(path)
    data = read_bytes(path)
    if not data.rstrip(b" \t\r").endswith(b"\n"):
        raise MagvoxInputError(path, "last line has no line end (file truncated?)")
    header, start = _split_header(path, data)
    structure, species_known = parse_poscar(path, header)
    try:
        blocks = parse_blocks(data[start:], len(structure))
    except LayoutError as exc:
        line = data[: start + exc.offset].count(b"\n") + 1
        raise MagvoxInputError(path, f"line {line}: {exc}") from None
    scale = abs(float(np.linalg.det(structure.lattice.matrix))) if quantity == "density" else 1.0
    mag = _pick_magnetization(blocks, magnetization)
    kind = {1: "none", 2: "collinear", 4: "noncollinear"}[len(blocks)]
    return VolumetricData(
        structure=structure,
        total_e_per_A3=blocks[0] / scale,
        magnetization_uB_per_A3=None if mag is None else mag / scale,
        spin_kind=kind,  # type: ignore[arg-type]
        source=str(path),
        sha256=sha256_hex(data),
        format=format,
        quantity=quantity,  # type: ignore[arg-type]
        species_known=species_known,
        magnetization_component=magnetization if len(blocks) == 4 else None,
    )
