"""The search folder: names, atomic search.json, errors listing the known searches."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.tune.state import SearchPaths, SearchRecord, check_name, load_record, save_record


def test_record_round_trips_and_missing_search_lists_known(tmp_path: Path) -> None:
    paths = SearchPaths(tmp_path, "a1")
    rec = SearchRecord(name="a1", space={"settings": {}}, space_source="x", sampler="tpe",
                       trials=3, dataset="/d", tracking_uri="sqlite:///m.db")
    save_record(paths, rec)
    assert load_record(paths) == rec
    assert not list(tmp_path.glob("a1/*.tmp"))
    with pytest.raises(FileNotFoundError, match="known: a1"):
        load_record(SearchPaths(tmp_path, "b2"))


@pytest.mark.parametrize("bad", ["", "../x", "a b", "x/y", "-lead"])
def test_bad_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="search name"):
        check_name(bad)


def test_ui_command_opens_the_search_experiment_on_its_store(tmp_path: Path) -> None:
    from search.tracking.ui import ui_command

    paths = SearchPaths(tmp_path, "s1")
    save_record(paths, SearchRecord(name="s1", space={}, space_source="x", sampler="tpe",
                                    trials=1, dataset="/d", tracking_uri="sqlite:///a.db",
                                    experiment_id="7"))
    cmd, url = ui_command("s1", str(tmp_path), None, "127.0.0.1", 5055)
    assert cmd[cmd.index("--backend-store-uri") + 1] == "sqlite:///a.db"
    assert url == ("http://127.0.0.1:5055/#/experiments/7/runs?workflowType=machine_learning"
                   "&viewStateShareKey=magvox-trials")
    cmd, url = ui_command(None, str(tmp_path), None, "127.0.0.1", 5055)
    assert cmd[cmd.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_unnamed_searches_get_a_free_name(tmp_path: Path) -> None:
    from search.tune.service import free_name

    assert free_name(tmp_path, "default-tpe") == "default-tpe"
    for name in ("default-tpe", "default-tpe-2"):
        save_record(SearchPaths(tmp_path, name), SearchRecord(
            name=name, space={}, space_source="x", sampler="tpe", trials=1, dataset="/d",
            tracking_uri="sqlite:///a.db"))
    assert free_name(tmp_path, "default-tpe") == "default-tpe-3"
