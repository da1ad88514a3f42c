"""Property: random damage to a real file never yields a wrong array without an error.

Either the reader raises MagvoxInputError, or every array it returns equals the undamaged one
(damage that changes nothing the arrays depend on, e.g. the title line, is harmless). The only
legitimate difference: a file cut exactly at a block boundary reads as fewer blocks (a valid
file of that kind), with those blocks intact.
"""

from __future__ import annotations

import gzip

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_prep.errors import MagvoxInputError
from data_prep.io.volumetric import read_volumetric

JUNK = ["x", "nan", "inf", "1.0.0", "--", "*****", "\x00", "1e", "#", "+-1"]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _damage(data: bytes, op: str, where: float, junk: str) -> bytes:
    """Apply one kind of damage at relative position ``where`` (0..1)."""
    lines = data.splitlines(keepends=True)
    i = min(int(where * len(lines)), len(lines) - 1)
    if op == "truncate":
        return data[: int(where * len(data))]
    if op == "delete_line":
        return b"".join(lines[:i] + lines[i + 1 :])
    if op == "duplicate_line":
        return b"".join(lines[: i + 1] + lines[i:])
    tokens = lines[i].split(b" ")
    k = int(where * 997) % len(tokens)
    tokens.insert(k, junk.encode())  # op == "insert_junk"
    return b"".join([*lines[:i], b" ".join(tokens), *lines[i + 1 :]])


def _check(original, path) -> None:
    try:
        damaged = read_volumetric(path)
    except MagvoxInputError:
        return
    assert np.array_equal(damaged.total_e_per_A3, original.total_e_per_A3)
    if damaged.magnetization_uB_per_A3 is not None:
        assert np.array_equal(damaged.magnetization_uB_per_A3, original.magnetization_uB_per_A3)
    else:
        assert damaged.spin_kind == "none"  # cut at the block boundary: block 1 intact


OPS = st.sampled_from(["truncate", "delete_line", "duplicate_line", "insert_junk"])


@SETTINGS
@given(op=OPS, where=st.floats(0, 1), junk=st.sampled_from(JUNK))
def test_random_damage_plain(real, tmp_path, op, where, junk):
    source = real / "format_fixtures" / "Co_monolayer_TRUNCATED_spin.CHGCAR"
    original = read_volumetric(source)
    path = tmp_path / "CHGCAR"
    path.write_bytes(_damage(source.read_bytes(), op, where, junk))
    _check(original, path)


@SETTINGS
@given(op=OPS, where=st.floats(0, 1), junk=st.sampled_from(JUNK))
def test_random_damage_four_blocks(real, tmp_path, op, where, junk):
    source = real / "NiO_SOC_AFM_grid28.CHGCAR.gz"
    original = read_volumetric(source)
    path = tmp_path / "CHGCAR"
    path.write_bytes(_damage(gzip.open(source).read(), op, where, junk))
    _check(original, path)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.floats(0, 1), flip=st.integers(1, 255))
def test_random_gzip_byte_flip(real, tmp_path, pos, flip):
    source = real / "MgSi_vasp642_hashed_species.LOCPOT.gz"
    original = read_volumetric(source)
    data = bytearray(source.read_bytes())
    data[min(int(pos * len(data)), len(data) - 1)] ^= flip
    path = tmp_path / "LOCPOT.gz"
    path.write_bytes(bytes(data))
    _check(original, path)
