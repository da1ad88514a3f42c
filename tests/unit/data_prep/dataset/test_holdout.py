"""The held-out test split (data_prep.dataset.holdout): stratified, seeded, recorded, stable."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from data_prep.dataset.holdout import assign, chalcogen, read_holdout, update_holdout
from data_prep.dataset.store import open_dataset


def _labels(n: int, x: str = "Te") -> pd.DataFrame:
    a2 = ["Ti", "V", "Mn", "Fe", "Co", "Ni", "Cu", "Y", "Nb", "Ru", "Sc", "Zn"]
    b = ["Ge2", "GeSi", "Si2", "P2", "GeP"]
    names = [f"Cr{a}{bb}{x}6" for a in a2 for bb in b][:n]
    return pd.DataFrame({"composite": names, "ground_state": [int(i % 5 != 0) for i in range(n)],
                         "moment_class": [int(i % 2 == 0) for i in range(n)]})


def test_a_fifth_of_every_stratum_goes_to_test():
    labels = _labels(55)
    test = [c for c, t in assign(labels).items() if t]
    assert len(test) == 11
    chosen = labels.set_index("composite").loc[test]
    assert chosen.ground_state.value_counts().to_dict() == {1: 9, 0: 2}
    assert assign(labels) == assign(labels.sample(frac=1, random_state=3))  # order-free


def test_recorded_split_survives_a_growing_dataset(tmp_path):
    small = _labels(30)
    first = update_holdout(tmp_path, small)
    grown = pd.concat([small, _labels(60).iloc[30:]], ignore_index=True)
    second = update_holdout(tmp_path, grown)
    assert all(second[c] == first[c] for c in first)  # nobody moves in or out of test
    assert sum(second.values()) == 12
    record = json.loads((tmp_path / "holdout.json").read_text())
    assert sorted(record["test"]) == sorted(c for c, t in second.items() if t)
    assert read_holdout(tmp_path) == second


def test_chalcogen_is_the_last_element():
    assert [chalcogen(c) for c in ("CrVGe2Te6", "Cr2Si2S6", "CrNbGePSe6")] == ["Te", "S", "Se"]


def test_bundled_datasets_record_their_split(bundled_dataset):
    ds = open_dataset(bundled_dataset)
    test = ds.test_composites
    assert test == sorted(c for c, t in read_holdout(bundled_dataset).items() if t)
    assert 10 <= len(test) <= 12  # a fifth of 55
    labels = ds.labels.set_index("composite").loc[test]
    assert set(labels.ground_state) == {0, 1} and set(labels.moment_class) == {0, 1}
    both = open_dataset(bundled_dataset.parent / "cgt.yaml")
    assert set(test) <= set(both.test_composites)
    assert {chalcogen(c) for c in both.test_composites} == {"Te", "Se", "S"}


def test_a_broken_dataset_list_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stores: [nosuch.zarr]\n")
    with pytest.raises(ValueError, match=r"bad\.yaml.*nosuch\.zarr"):
        open_dataset(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(ValueError, match=r"bad\.yaml"):
        open_dataset(bad)


def test_info_summarizes_the_multi_x_dataset_per_chalcogen(bundled_dataset):
    from search.commands.info import collect

    info = collect(bundled_dataset.parent / "cgt.yaml")
    per_x = info["per_x"]
    assert set(per_x) == {"Te", "Se", "S"} and per_x["Te"]["composites"] == 55
    assert sum(v["composites"] for v in per_x.values()) == info["composites"]
    assert sum(v["test_composites"] for v in per_x.values()) == info["test_composites"]
    assert per_x["Te"]["label_counts"]["ground_state"] == {"1": 46, "0": 9}


def test_info_prints_one_aligned_row_per_chalcogen(bundled_dataset, capsys):
    from search.commands.info import collect, run

    info = collect(bundled_dataset.parent / "cgt.yaml")
    assert run(argparse.Namespace(path=str(bundled_dataset.parent / "cgt.yaml"), json=False,
                                  magnetization="z")) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("per_x"))
    rows = {line.split()[0]: line.split()[1:] for line in lines[head + 1:head + 4]}
    assert set(rows) == {"S", "Se", "Te"}
    for x, row in rows.items():
        entry = info["per_x"][x]
        gs = entry["label_counts"]["ground_state"]
        assert row[:3] == [str(entry["composites"]), str(entry["samples"]),
                           str(entry["test_composites"])]
        assert row[3] == f"{gs.get('1', 0)}/{gs.get('0', 0)}/{gs.get('missing', 0)}"
    assert rows["Te"][3] == "46/9/0"


def test_every_scoring_of_the_test_split_is_logged_and_kept(tmp_path) -> None:
    """holdout.json lists each look at the test split (when, which command, how many of its
    composites); a re-run of prep that grows the split keeps the log."""
    from data_prep.dataset.holdout import log_scoring, scorings

    labels = pd.DataFrame({"composite": [f"Cr{el}Ge2Te6" for el in "V Mn Fe Co Ni".split()],
                           "ground_state": [1, 1, 0, 1, 0], "moment_class": [1, 1, 1, 0, 0]})
    update_holdout(tmp_path, labels)
    test = json.loads((tmp_path / "holdout.json").read_text())["test"]
    assert log_scoring(tmp_path, "magvox search start", [*test, "CrXGe2Te6"], search="a") == 1
    assert log_scoring(tmp_path, "magvox search best a", test) == 2
    update_holdout(tmp_path, labels)  # prep again
    logged = scorings(tmp_path)
    assert [e["command"] for e in logged] == ["magvox search start", "magvox search best a"]
    assert logged[0]["composites"] == len(test) and logged[0]["search"] == "a"
    assert logged[0]["when"].endswith("Z")
    with pytest.raises(ValueError, match="no holdout record"):
        log_scoring(tmp_path / "nowhere", "x", [])
