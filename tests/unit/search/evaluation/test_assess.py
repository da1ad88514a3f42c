"""Nested cross-validation pieces: the outer folds over every labelled composite of Table 1, the
dataset view that holds one fold out, and the pooling of out-of-fold predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from data_prep.composite import chalcogen
from data_prep.dataset.store import open_dataset
from models.data import labelled_composites
from models.evaluate import compare
from models.pooled import pool
from search.evaluation.assess import (
    AssessOptions,
    AssessRecord,
    conflicts,
    outer_folds,
    store_paths,
    write_view,
)


@pytest.fixture(scope="module")
def table1(bundled_dataset: Path) -> tuple[list[str], np.ndarray]:
    """Every composite of data/cgt.yaml with an FM density and a ground_state label."""
    return labelled_composites(bundled_dataset.parent / "cgt.yaml", "ground_state", "FM")


def test_outer_folds_cover_every_labelled_composite_once_stratified(table1) -> None:
    names, y = table1
    assert len(names) >= 160  # the stores' own test splits are in too
    folds = outer_folds(names, y, 5, classification=True, seed=0)
    flat = [c for f in folds for c in f]
    assert sorted(flat) == sorted(names) and len(set(flat)) == len(flat)
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    label = dict(zip(names, y, strict=True))
    for fold in folds:  # every fold holds each X and both classes, near their shares
        assert {chalcogen(c) for c in fold} == {"S", "Se", "Te"}
        afm = sum(label[c] == 0 for c in fold)
        assert abs(afm / len(fold) - np.mean(y == 0)) < 0.05
    assert folds == outer_folds(names, y, 5, classification=True, seed=0)  # seeded
    assert folds != outer_folds(names, y, 5, classification=True, seed=1)


def test_outer_folds_refuse_a_class_smaller_than_the_folds() -> None:
    names = [f"Cr{el}Ge2Te6" for el in ("Ti", "V", "Mn", "Fe", "Co", "Ni", "Cu", "Y", "Nb", "Ru")]
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"at least 5 composites of each class.*class 0: 3"):
        outer_folds(names, y, 5, classification=True, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        outer_folds(names, y, 1, classification=True, seed=0)


def test_a_fold_view_holds_exactly_that_fold_out(bundled_dataset: Path, tmp_path: Path) -> None:
    stores = store_paths(bundled_dataset.parent / "cgt.yaml")
    assert len(stores) == 3 and all(Path(s).is_absolute() for s in stores)
    fold = ["CrVGe2Te6", "CrNiSi2Se6", "CrMnP2S6"]
    view = open_dataset(write_view(tmp_path / "outer0.yaml", stores, fold))
    assert view.test_composites == sorted(fold)
    whole = open_dataset(bundled_dataset.parent / "cgt.yaml")
    assert len(view.labels) == len(whole.labels)  # same stores, only the split differs
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"stores": stores, "test_composites": ["CrXxGe2Te6"]}))
    with pytest.raises(ValueError, match=r"bad\.yaml: test_composites \['CrXxGe2Te6'\]"):
        open_dataset(bad)


def _fold(names, y, cnn, other):
    return {"composites": names, "y": list(y), "predictions": {"cnn": list(cnn),
                                                               "majority": list(other)}}


def test_pooling_scores_the_out_of_fold_predictions_together() -> None:
    rng = np.random.default_rng(0)
    names = [f"Cr{el}Ge2{x}6" for x in ("Te", "Se") for el in ("Ti", "V", "Mn", "Fe", "Co",
                                                                  "Ni", "Cu", "Y", "Nb", "Ru")]
    y = np.array([0, 1] * 10)
    cnn = np.clip(y + rng.normal(0, 0.3, 20), 0, 1)
    folds = [_fold(names[:10], y[:10], cnn[:10], np.ones(10)),
             _fold(names[10:], y[10:], cnn[10:], np.ones(10))]
    pooled = pool("class", "ground_state", folds, n_boot=300)
    scores, diffs = compare("class", y, {"cnn": cnn, "majority": np.ones(20)}, n_boot=300)
    assert pooled.scores == scores and pooled.differences == diffs
    assert pooled.n_composites == 20 and pooled.class_counts == {0: 10, 1: 10}
    assert set(pooled.per_x) == {"Se", "Te"} and pooled.per_x["Te"]["n"] == 10
    assert len(pooled.per_fold["cnn"]) == 2
    assert "20 composites each predicted once" in pooled.text()
    with pytest.raises(ValueError, match="more than one outer fold"):
        pool("class", "ground_state", [folds[0], folds[0]])


def test_pooling_gives_the_seed_spread_of_the_selected_networks() -> None:
    names = [f"Cr{el}Ge2Te6" for el in ("Ti", "V", "Mn", "Fe", "Co", "Ni", "Cu", "Y", "Nb", "Ru")]
    y = np.array([0, 1] * 5)
    right, wrong = y.astype(float), 1.0 - y
    folds = []
    for part in (slice(0, 5), slice(5, 10)):
        fold = _fold(names[part], y[part], right[part], np.ones(5))
        fold["seed_predictions"] = [list(right[part]), list(wrong[part]), list(right[part])]
        folds.append(fold)
    pooled = pool("class", "ground_state", folds, n_boot=100)
    assert pooled.seed_scores == [1.0, 0.0, 1.0]
    assert "CNN over 3 seeds: 0.667 +- 0.471" in pooled.text()


def test_restricting_the_folds_keeps_each_composites_own_values() -> None:
    from models.pooled import restrict

    fold = _fold(["CrVGe2Te6", "CrNiGe2Te6", "CrCoGe2Te6"], [1, 0, 1], [0.9, 0.2, 0.4],
                 [1, 1, 1])
    fold["seed_predictions"] = [[0.9, 0.2, 0.4], [0.8, 0.1, 0.6]]
    (cut,) = restrict([fold], {"CrNiGe2Te6", "CrCoGe2Te6"})
    assert cut["composites"] == ["CrNiGe2Te6", "CrCoGe2Te6"] and cut["y"] == [0, 1]
    assert cut["predictions"]["cnn"] == [0.2, 0.4]
    assert cut["seed_predictions"] == [[0.2, 0.4], [0.1, 0.6]]


def test_two_run_input_is_also_scored_without_the_collapsed_pairs(bundled_dataset) -> None:
    """FM+AFM-Neel: pairs whose Neel start converged into the FM state carry one density twice
    and always the FM label; the figures are given again without them, with their count."""
    from search.evaluation.assess import AssessRecord, distinct_states

    labels = open_dataset(bundled_dataset).labels.dropna(subset=["ground_state"])
    names, y = list(labels["composite"]), labels["ground_state"].astype(int).tolist()
    folds = [_fold(names[:30], y[:30], y[:30], [1] * 30), _fold(names[30:], y[30:], y[30:],
                                                                 [1] * (len(y) - 30))]
    record = AssessRecord({}, str(bundled_dataset), "ground_state", "class", "FM+AFM-Neel", [],
                          [], "")
    found = distinct_states(record, folds)
    collapsed = int(labels["afm_collapsed"].astype(bool).sum())
    assert collapsed > 0 and found["collapsed"] == collapsed
    assert found["kept"] == len(names) - collapsed == found["pooled"].n_composites
    assert distinct_states(AssessRecord({}, str(bundled_dataset), "ground_state", "class", "FM",
                                        [], [], ""), folds) is None


def test_a_resume_with_other_options_names_each_difference(tmp_path: Path) -> None:
    data = tmp_path / "cgt.yaml"
    started = AssessOptions("gs", space="table2", sampler="random", trials=8, dataset="cgt.yaml",
                            overrides={"settings.max_train_tflop": 20}, outer_folds=5,
                            final_seeds=1)  # fmt: skip
    record = AssessRecord(vars(started), str(data.resolve()), "ground_state", "class", "FM",
                          [], [], "sqlite:///mlflow.db")  # fmt: skip
    assert conflicts(AssessOptions("gs"), record) == []  # nothing given: resume as started
    assert conflicts(started, record) == []
    same_file = AssessOptions("gs", dataset=str(data))  # typed otherwise, the same file
    assert conflicts(same_file, record) == []
    asked = AssessOptions("gs", sampler="tpe", trials=8, final_seeds=3, dataset="other.yaml",
                          overrides={"settings.max_train_tflop": 40})  # fmt: skip
    assert conflicts(asked, record) == [
        "--dataset cgt.yaml (asked: other.yaml)", "--sampler random (asked: tpe)",
        "--final-seeds 1 (asked: 3)",
        "--set settings.max_train_tflop=20 (asked: settings.max_train_tflop=40)"]  # fmt: skip
    none_then = AssessRecord({**vars(started), "seed": None}, record.dataset, "ground_state",
                             "class", "FM", [], [], "")  # fmt: skip
    assert conflicts(AssessOptions("gs", seed=3), none_then) == ["--seed not given (asked: 3)"]
