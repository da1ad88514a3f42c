"""The composite-name codec: every Table 1 decoration's name reads back to its sites."""

from __future__ import annotations

import pytest

from data_prep.composite import chalcogen, composite_name, parse_composite


def test_table1_names_read_back_to_their_decorations() -> None:
    from data_prep.dft.structures import Decoration, table1

    for dec in table1():
        sites = parse_composite(dec.name)
        assert sites == dec.as_dict() and composite_name(sites) == dec.name
        assert Decoration.from_name(dec.name) == dec
        assert chalcogen(dec.name) == dec.x


def test_a_name_not_of_ten_atoms_is_refused() -> None:
    assert parse_composite("CrVGe2Te6") == {"A1": "Cr", "A2": "V", "B1": "Ge", "B2": "Ge",
                                            "X": "Te"}
    with pytest.raises(ValueError, match="A2B2X6"):
        parse_composite("MnPS3")
    assert chalcogen("MnPS3") == "S" and chalcogen("") == ""
