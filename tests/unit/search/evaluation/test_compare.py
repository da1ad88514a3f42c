"""Assessments on the same outer folds, paired composite by composite (``magvox search
compare``): the recorded nested cross-validations of data/assessments, and the refusals when two
assessments do not pair."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.evaluate import score
from search.evaluation.compare import compare_assessments

RECORDS = Path(__file__).resolve().parents[4] / "data" / "assessments"


def test_the_recorded_preset_and_search_assessments_pair_and_their_difference_is_paired():
    out = compare_assessments([RECORDS / "gs-fm-preset", RECORDS / "gs-fm-tpe"])
    preset = json.loads((RECORDS / "gs-fm-preset" / "assessment.json").read_text())
    tpe = json.loads((RECORDS / "gs-fm-tpe" / "assessment.json").read_text())
    assert out.n_composites == 163 and out.metric == "balanced_accuracy"
    assert out.scores["gs-fm-preset"][0] == pytest.approx(preset["scores"]["cnn"][0])
    assert out.scores["gs-fm-tpe"][0] == pytest.approx(tpe["scores"]["cnn"][0])
    assert out.scores["composition"][0] == pytest.approx(preset["scores"]["composition"][0])
    diff, lo, hi = out.differences["gs-fm-tpe"]
    assert diff == pytest.approx(preset["scores"]["cnn"][0] - tpe["scores"]["cnn"][0])
    assert lo < diff < hi
    # the difference of one assessment with its own baseline matches its pooled record
    assert out.differences["composition"][0] == pytest.approx(
        preset["differences"]["composition"][0])
    assert set(out.per_x) == {"S", "Se", "Te"}
    assert "gs-fm-preset - gs-fm-tpe" in out.text()


def _copy(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src, dst)
    table = pd.read_csv(dst / "assessment.csv")
    edited = edit(table)
    table = table if edited is None else edited
    table.to_csv(dst / "assessment.csv", index=False)
    return dst


def test_a_paired_difference_with_itself_is_zero_and_a_flipped_prediction_moves_it(tmp_path):
    same = _copy(RECORDS / "gs-fm-preset", tmp_path / "same", lambda t: None)
    flipped = _copy(RECORDS / "gs-fm-preset", tmp_path / "flipped",
                    lambda t: t.__setitem__("cnn", 1.0 - t["cnn"]))
    out = compare_assessments([RECORDS / "gs-fm-preset", same, flipped])
    assert out.differences["same"] == (0.0, 0.0, 0.0)
    table = pd.read_csv(RECORDS / "gs-fm-preset" / "assessment.csv")
    y = table["y"].to_numpy(int)
    expected = score("class", y, table["cnn"].to_numpy()) - score(
        "class", y, 1.0 - table["cnn"].to_numpy())
    assert out.differences["flipped"][0] == pytest.approx(expected)
    assert out.differences["flipped"][1] > 0  # the preset beats its own flip beyond the interval


def test_assessments_on_other_folds_or_other_composites_are_refused(tmp_path):
    def move(t: pd.DataFrame) -> None:
        t.loc[:2, "outer_fold"] = (t.loc[:2, "outer_fold"] + 1) % 5

    moved = _copy(RECORDS / "gs-fm-preset", tmp_path / "moved", move)
    with pytest.raises(ValueError, match="different outer folds"):
        compare_assessments([RECORDS / "gs-fm-preset", moved])
    fewer = _copy(RECORDS / "gs-fm-preset", tmp_path / "fewer",
                  lambda t: t.drop(index=np.arange(3)))
    with pytest.raises(ValueError, match="different composites"):
        compare_assessments([RECORDS / "gs-fm-preset", fewer])
    with pytest.raises(ValueError, match="mo-fm-tpe moment: nothing to compare"):
        compare_assessments([RECORDS / "gs-fm-preset", RECORDS / "mo-fm-tpe"])
    with pytest.raises(FileNotFoundError, match="no finished assessment"):
        compare_assessments([RECORDS / "gs-fm-preset", tmp_path / "nothing"])
