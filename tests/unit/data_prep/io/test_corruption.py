"""Damaged copies of real files (built in tmp_path) raise MagvoxInputError naming file and problem.

pymatgen alone pads or accepts some of these (a deleted line lets a block eat the next one, NaN
passes, extra values become a MAGMOM line); the reader must not, with pymatgen's C number parser
and with the numpy twin that replaces it when it is missing (data_prep.io.vasp_blocks).
"""

from __future__ import annotations

import gzip
import re

import pytest

from data_prep.errors import MagvoxInputError
from data_prep.io import vasp_blocks
from data_prep.io.volumetric import read_volumetric

FE = "Fe_bcc_prim_spin.CHGCAR"  # 2 blocks, MAGMOM '2.0' between, augmentation sections
NIO = "NiO_SOC_AFM_grid28.CHGCAR.gz"  # 4 blocks, nothing between them


@pytest.fixture(autouse=True, params=["default", "numpy"])
def number_parser(request, monkeypatch):
    """Every damage below is found by the parser in use and by the numpy twin."""
    if request.param == "numpy":
        monkeypatch.setattr(vasp_blocks, "_parse_n_doubles", vasp_blocks.parse_doubles_numpy)
    return request.param


def _fe_lines(real) -> list[str]:
    return (real / FE).read_text().splitlines(keepends=True)


def _expect_error(path, pattern: str) -> MagvoxInputError:
    with pytest.raises(MagvoxInputError) as info:
        read_volumetric(path)
    assert str(path) in str(info.value)
    assert re.search(pattern, info.value.reason), info.value.reason
    return info.value


def _write(tmp_path, lines: list[str], name: str = "CHGCAR"):
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def _grid_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.split() == ["28", "28", "28"]]


def test_truncated_mid_block(real, tmp_path):
    data = (real / FE).read_bytes()
    path = tmp_path / "CHGCAR"
    path.write_bytes(data[: len(data) // 3])
    _expect_error(path, "truncated")
    path.write_bytes(data[: data.index(b"\n", len(data) // 3) + 1])  # at a line end
    _expect_error(path, r"expected \d+ values")


def test_garbled_token(real, tmp_path):
    lines = _fe_lines(real)
    lines[40] = lines[40].replace("E", "#", 1)
    _expect_error(_write(tmp_path, lines), r"line 41|values")


@pytest.mark.parametrize("token", ["NaN", "inf", "-Infinity"])
def test_nan_inf(real, tmp_path, token):
    lines = _fe_lines(real)
    parts = lines[100].split()
    parts[2] = token
    lines[100] = " " + " ".join(parts) + "\n"
    _expect_error(_write(tmp_path, lines), "NaN/inf")


def test_deleted_line_in_first_block(real, tmp_path):
    """pymatgen would let block 1 eat the grid line and block 2 and return fewer blocks."""
    text = gzip.open(real / NIO).read().decode().splitlines(keepends=True)
    del text[200]
    _expect_error(_write(tmp_path, text), "values|unexpected text")


def test_deleted_grid_line_of_second_block(real, tmp_path):
    lines = _fe_lines(real)
    del lines[_grid_lines(lines)[1]]
    _expect_error(_write(tmp_path, lines), "values|out of place")


def test_extra_line_after_block(real, tmp_path):
    lines = _fe_lines(real)
    end = _grid_lines(lines)[0] + 1 + 28**3 // 5 + 1  # first line after block 1
    lines.insert(end, lines[end - 2])
    _expect_error(_write(tmp_path, lines), "values|out of place")


def test_wrong_grid_count(real, tmp_path):
    lines = _fe_lines(real)
    lines[_grid_lines(lines)[0]] = "   28   28   27\n"
    _expect_error(_write(tmp_path, lines), "values")


def test_empty_and_blank(tmp_path):
    (tmp_path / "CHGCAR").write_bytes(b"")
    _expect_error(tmp_path / "CHGCAR", "empty")
    (tmp_path / "CHGCAR").write_bytes(b"\n\n  \n")
    _expect_error(tmp_path / "CHGCAR", "empty")


def test_corrupt_gzip(real, tmp_path):
    data = bytearray((real / NIO).read_bytes())
    path = tmp_path / "CHGCAR.gz"
    path.write_bytes(bytes(data[: len(data) // 2]))
    _expect_error(path, "corrupt or truncated gz")
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    _expect_error(path, "corrupt or truncated gz")
    path.write_bytes(b"not gzip at all\n")
    _expect_error(path, "corrupt or truncated gz")


def test_binary_header(tmp_path):
    (tmp_path / "CHGCAR").write_bytes(b"\xff\xfe\x00garbage\n\n1 1 1\n1.0\n")
    _expect_error(tmp_path / "CHGCAR", "header")


def test_three_blocks_rejected(real, tmp_path):
    text = gzip.open(real / NIO).read().decode()
    cut = [m.start() for m in re.finditer(r"^ +28 +28 +28$", text, flags=re.M)][3]
    (tmp_path / "CHGCAR").write_text(text[:cut])
    _expect_error(tmp_path / "CHGCAR", "3 grid blocks")


def test_unknown_format(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    _expect_error(tmp_path / "notes.txt", "unknown volumetric format")


def test_cube_damage(real, tmp_path):
    text = gzip.open(real / "Ca2N_total_density.cube.gz").read().decode()
    (tmp_path / "a.cube").write_text(text[: len(text) // 2].rsplit("\n", 1)[0] + "\n")
    _expect_error(tmp_path / "a.cube", "needs 216000 values")
    lines = text.splitlines(keepends=True)
    lines[100] = "x" + lines[100]
    (tmp_path / "b.cube").write_text("".join(lines))
    _expect_error(tmp_path / "b.cube", "non-numeric|values")
