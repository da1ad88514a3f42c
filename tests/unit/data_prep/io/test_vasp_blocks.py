"""The number parser under the CHGCAR reader: pymatgen's C parser, and the numpy twin that
takes over when pymatgen moves or drops it, read every real file to the same bits and stop at
the same place on damaged text."""

from __future__ import annotations

import io

import numpy as np
import pytest

from data_prep.io import vasp_blocks
from data_prep.io.volumetric import read_volumetric

FAST = vasp_blocks._fast_parse


def test_pymatgen_fast_parser_is_found():
    """If this fails, pymatgen moved ``parse_n_doubles``: reads still work (numpy twin), slower;
    update the import in data_prep/io/vasp_blocks.py."""
    assert FAST is not None, "pymatgen.optimization.fast_parser.parse_n_doubles not importable"
    assert vasp_blocks._parse_n_doubles is FAST


@pytest.mark.parametrize("name", [
    "Fe_bcc_prim_spin.CHGCAR",  # augmentation sections, MAGMOM line between the blocks
    "NiO_SOC_AFM_grid28.CHGCAR.gz",  # four blocks, 5 significant digits
    "format_fixtures/Co_monolayer_TRUNCATED_spin.CHGCAR",
    "VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz",
    "C4_graphite_lefthanded_spin.ELFCAR.gz",
    "MgSi_vasp642_hashed_species.LOCPOT.gz",
])
def test_the_numpy_twin_reads_real_files_to_the_same_bits(real, monkeypatch, name):
    fast = read_volumetric(real / name)
    monkeypatch.setattr(vasp_blocks, "_parse_n_doubles", vasp_blocks.parse_doubles_numpy)
    twin = read_volumetric(real / name)
    assert (twin.grid, twin.spin_kind) == (fast.grid, fast.spin_kind)
    assert np.array_equal(twin.total_e_per_A3, fast.total_e_per_A3)
    if fast.magnetization_uB_per_A3 is None:
        assert twin.magnetization_uB_per_A3 is None
    else:
        assert np.array_equal(twin.magnetization_uB_per_A3, fast.magnetization_uB_per_A3)
    if fast.electrons() is not None:
        assert twin.electrons() == fast.electrons()


@pytest.mark.parametrize(("text", "n", "got", "position"), [
    (b"1 2 3\n4 5\n", 4, 4, 7),  # stops mid-line, right after the 4th number
    (b"1 2 3\n4 5\n", 5, 5, 9),  # the rest of the line ("\n") is left for the caller
    (b"1 2 3\n4 5\n", 6, 5, 9),  # EOF: what there was
    (b"1 2 x 3\n", 3, 2, 3),  # a non-number: stops after the last number before it
    (b"1 2\n\n  x 3", 4, 2, 3),
    (b"1 2 nan -Infinity\n", 4, 4, 17),  # read; the caller refuses them
    (b" 1\t2\r\n\n 3 4\n", 3, 3, 9),
    (b"", 3, 0, 0),
])
def test_the_numpy_twin_stops_where_the_c_parser_does(text, n, got, position):
    parsers = [vasp_blocks.parse_doubles_numpy] + ([FAST] if FAST is not None else [])
    for parse in parsers:
        stream, out = io.BytesIO(text), np.full(n, np.nan)
        count = parse(stream, out, n)
        assert (count, stream.tell()) == (got, position), parse
        np.testing.assert_array_equal(out[:got], np.array(text.split()[:got], dtype=np.float64))


def test_the_numpy_twin_takes_no_underscored_digits():
    """Python's float() reads "1_0" as 10; in a CHGCAR it is damage."""
    stream, out = io.BytesIO(b"1 2 1_0 3\n"), np.empty(4)
    assert vasp_blocks.parse_doubles_numpy(stream, out, 4) == 2 and stream.tell() == 3
