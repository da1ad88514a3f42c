"""Strict parser of the data part of a CHGCAR-family file (everything after the POSCAR header).

pymatgen's reader pads or silently accepts some damage (a deleted line makes one block eat the next,
extra values become a "MAGMOM" line, NaN/inf pass). This parser uses pymatgen's fast C number
parser for speed but checks the layout itself, so damage raises instead of giving a wrong array:

    <Nx Ny Nz>                    grid line (3 integers)
    <Nx*Ny*Nz numbers>            the block, x fastest, any number per line
    [augmentation occupancies k n + n numbers] ...   (optional, also "(imaginary part)")
    [MAGMOM: natoms or 3*natoms numbers, may span lines]   (only between blocks)
    <Nx Ny Nz> ...                next block (same grid), 1, 2 or 4 blocks in all
"""

from __future__ import annotations

import io
import itertools
import re

import numpy as np

try:  # pymatgen's C parser (~500 MB/s); parse_doubles_numpy below if it moves or is not built
    from pymatgen.optimization.fast_parser import parse_n_doubles as _fast_parse
except ImportError:
    _fast_parse = None

_AUG = b"augmentation occupancies"
_TOKEN = re.compile(rb"\S+")


class LayoutError(ValueError):
    """Damage in the data part; ``offset``: byte offset (in the data part) where it was seen."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _token_end(line: bytes, count: int) -> int:
    """Byte offset in ``line`` just after its ``count``-th whitespace-separated token (0: 0)."""
    end = 0
    for match in itertools.islice(_TOKEN.finditer(line), count):
        end = match.end()
    return end


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return b"_" not in token  # float() reads "1_0" as 10; a number in a file never has one


def _line_values(tokens: list[bytes]) -> tuple[np.ndarray, bool]:
    """The leading numbers of ``tokens`` (float64) and whether every token was one."""
    if b"_" not in b"".join(tokens):
        try:
            return np.array(tokens, dtype=np.float64), True
        except ValueError:
            pass
    good = list(itertools.takewhile(_is_number, tokens))
    return np.array(good, dtype=np.float64), len(good) == len(tokens)


def parse_doubles_numpy(stream: io.BytesIO, out: np.ndarray, n: int) -> int:
    """Read up to ``n`` whitespace-separated numbers of ``stream`` into ``out``; the count read.

    The twin of pymatgen's ``parse_n_doubles`` (used when that C parser is missing; ~4x slower,
    the same values: both round each decimal correctly): it stops before the first token that is
    not a number (or at EOF) and leaves ``stream`` just after the last number it read, so the
    rest of that line can be checked. NaN and inf are numbers here (the caller refuses them).
    """
    got, end = 0, stream.tell()
    while got < n:
        start = stream.tell()
        line = stream.readline()
        if not line:
            break
        tokens = line.split()[: n - got]
        values, whole = _line_values(tokens)
        out[got : got + len(values)] = values
        got += len(values)
        if len(values):  # just after the last number read (the line's end: after its last)
            last = len(line.rstrip()) if whole and got < n else _token_end(line, len(values))
            end = start + last
        if not whole:
            break
    stream.seek(end)
    return got


_parse_n_doubles = _fast_parse if _fast_parse is not None else parse_doubles_numpy


def _read_numbers(stream: io.BytesIO, n: int, what: str) -> np.ndarray:
    """Read exactly n numbers; the line holding the last one must end right after it."""
    start = stream.tell()
    out = np.empty(n)
    got = _parse_n_doubles(stream, out, n)
    if got != n:
        raise LayoutError(f"{what}: expected {n} values, found {got} before a non-number or EOF",
                          stream.tell())
    rest = stream.readline()
    if rest.strip():
        raise LayoutError(f"{what}: more values than the grid holds, {rest.strip()[:40]!r} follows",
                          stream.tell() - len(rest))
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise LayoutError(f"{what}: value {bad + 1} is {out[bad]} (NaN/inf not allowed)", start)
    return out


def _grid_of(tokens: list[bytes]) -> tuple[int, int, int] | None:
    if len(tokens) != 3 or not all(t.isdigit() for t in tokens):
        return None
    return int(tokens[0]), int(tokens[1]), int(tokens[2])


def _float_tokens(tokens: list[bytes], offset: int) -> int:
    for t in tokens:
        try:
            value = float(t)
        except ValueError:
            raise LayoutError(f"non-numeric token {t[:20]!r} between blocks", offset) from None
        if not np.isfinite(value):
            raise LayoutError(f"non-finite value {t!r} between blocks", offset)
    return len(tokens)


def _read_aug(stream: io.BytesIO, line: bytes, offset: int, block: int) -> None:
    parts = line.split()
    try:
        n = int(parts[-1])
    except (ValueError, IndexError):
        raise LayoutError(f"bad augmentation header {line[:60]!r}", offset) from None
    _read_numbers(stream, n, f"block {block} augmentation occupancies")


def parse_blocks(data: bytes, natoms: int) -> list[np.ndarray]:
    """The grid blocks of ``data`` (text after the header): raw values (rho*V), (Nx, Ny, Nz).

    Raises LayoutError (with the byte offset) on any deviation from the layout above.
    """
    stream = io.BytesIO(data)
    blocks: list[np.ndarray] = []
    grid: tuple[int, int, int] | None = None
    loose = 0  # numbers seen since the last block (a MAGMOM line)
    while line := stream.readline():
        offset = stream.tell() - len(line)
        tokens = line.split()
        if not tokens:
            continue
        if line.lstrip().startswith(_AUG):
            if not blocks or loose:
                raise LayoutError("augmentation occupancies out of place", offset)
            _read_aug(stream, line, offset, len(blocks))
            continue
        new_grid = _grid_of(tokens)
        if new_grid is not None and (grid is None or new_grid == grid):
            _check_magmom(loose, natoms, offset, bool(blocks))
            if grid is None and min(new_grid) < 1:
                raise LayoutError(f"grid {new_grid} has a zero dimension", offset)
            grid, loose = new_grid, 0
            values = _read_numbers(stream, int(np.prod(grid)), f"block {len(blocks) + 1} {grid}")
            blocks.append(values.reshape(grid, order="F"))
            continue
        if not blocks:
            raise LayoutError(f"expected the grid line 'Nx Ny Nz', found {line.strip()[:60]!r}",
                              offset)
        loose += _float_tokens(tokens, offset)
    if loose:
        raise LayoutError(f"{loose} stray values after the last block (truncated file?)", len(data))
    if len(blocks) not in (1, 2, 4):
        raise LayoutError(f"{len(blocks)} grid blocks; expected 1, 2 or 4", len(data))
    return blocks


def _check_magmom(loose: int, natoms: int, offset: int, between: bool) -> None:
    """Numbers between two blocks must be absent or a MAGMOM of natoms or 3*natoms values."""
    if between and loose not in (0, natoms, 3 * natoms):
        raise LayoutError(
            f"{loose} values between blocks; expected none or a MAGMOM line of {natoms} "
            f"or {3 * natoms} (a line deleted or inserted?)", offset)
