"""Test-split comparison (models.evaluate) and model files that load without running code."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from models.evaluate import TestReport, compare
from models.presets import create_model
from models.saved import load_model, save_model
from models.trial import TrialConfig


def _report(task, y, preds):
    scores, diffs = compare(task, y, preds, n_boot=500, seed=0)
    metric = "balanced_accuracy" if task == "class" else "mae"
    return TestReport("t", task, metric, 40, [f"C{i}" for i in range(len(y))], scores, diffs,
                      [float(v) for v in y])


def test_a_perfect_classifier_beats_majority_not_an_equal_baseline():
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    perfect = y.astype(float)
    rep = _report("class", y, {"cnn": perfect, "majority": np.ones(12), "composition": perfect})
    assert rep.scores["cnn"][0] == 1.0 and rep.scores["majority"][0] == 0.5
    assert rep.beats("majority") and not rep.beats("composition")
    assert "beats the majority baseline" in rep.verdict() and "not the composition" in rep.verdict()
    lo, hi = rep.differences["majority"][1:]
    assert lo <= 0.5 <= hi and rep.flat()["test_cnn_balanced_accuracy"] == 1.0


def test_mae_comparison_counts_lower_as_better():
    rng = np.random.default_rng(0)
    y = rng.normal(4.0, 1.0, 12)
    rep = _report("reg", y, {"cnn": y + 0.01, "majority": np.full(12, y.mean()),
                             "composition": y + rng.normal(0, 0.5, 12)})
    assert rep.scores["cnn"][0] == pytest.approx(0.01)
    assert rep.beats("majority") and rep.beats("composition")
    assert rep.verdict() == ("the CNN beats every baseline (majority, composition) beyond the "
                             "95% interval")
    assert "12 composites never seen by the search" in rep.line()


def test_one_composite_of_a_class_makes_no_claim_beyond_the_interval():
    """The Te test split held one AFM composite: balanced accuracy's AFM half is then 0 or 1
    and no resampling moves it, so a perfect CNN is not said to beat anything beyond it."""
    y = np.array([0, *[1] * 10])
    perfect = y.astype(float)
    rep = _report("class", y, {"cnn": perfect, "majority": np.ones(11),
                               "composition": np.ones(11)})
    assert rep.differences["majority"][1] > 0  # the bootstrap alone would claim it
    assert rep.small_classes() == {0: 1}
    assert not rep.beats("majority") and not rep.beats("composition")
    assert rep.verdict().startswith("1 composite of class 0 in this split: no interval")
    assert "beats" not in rep.verdict()
    assert "(1 of class 0, 10 of class 1)" in rep.line()


def test_model_file_round_trip_and_no_code_execution(tmp_path):
    config = TrialConfig.from_dict({"preset": "periodic-fast", "target": "moment"})
    model = create_model("periodic-fast", grid=(8, 8, 12), num_outputs=1)
    model.input_scale.fill_(2.5)
    save_model(model.state_dict(), config, tmp_path / "model.pt")
    again, cfg = load_model(tmp_path / "model.pt", (8, 8, 12))
    assert cfg == config and torch.equal(again.input_scale, model.input_scale)
    evil = tmp_path / "evil.pt"

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    with open(evil, "wb") as fh:
        pickle.dump({"state_dict": {}, "config": Payload()}, fh)
    with pytest.raises(ValueError, match=r"evil\.pt: not a magvox model file"):
        load_model(evil, (8, 8, 12))


def test_ground_state_classes_are_named_in_the_report():
    y = np.array([0, *[1] * 10])
    scores, diffs = compare("class", y, {"cnn": y.astype(float), "majority": np.ones(11)},
                            n_boot=100)
    rep = TestReport("ground_state", "class", "balanced_accuracy", 40,
                     [f"C{i}" for i in range(11)], scores, diffs, [float(v) for v in y])
    assert rep.verdict().startswith("1 composite of class 0 (AFM) in this split: no interval")
    assert "(1 of class 0 (AFM), 10 of class 1 (FM))" in rep.line()


def test_development_folds_predict_every_development_composite_once_out_of_fold(fake_dataset):
    """score_development_folds: each composite scored once, by models fitted without it; the
    fake FM densities integrate to the moment labels, so the integrals baseline (fitted on the
    other folds) must read the moment nearly exactly: the predictions are paired with the right
    labels."""
    from models.evaluate import score_development_folds

    config = {"preset": "periodic-fast", "target": "moment", "epochs": 1, "kernel_sizes": [2],
              "strides": [2]}
    report = score_development_folds(config, fake_dataset, folds=3, n_boot=200)
    from models.data import test_composites

    names = fake_dataset.labels["composite"].tolist()
    held_out = set(test_composites(fake_dataset))
    assert held_out and report.folds == 3  # the fake data's test split is never scored
    assert sorted(report.test_composites) == sorted(set(names) - held_out)
    moments = dict(zip(names, fake_dataset.labels["moment_uB"], strict=True))
    assert report.y == [pytest.approx(moments[c]) for c in report.test_composites]
    # measured: integrals 0.13 uB (ridge on 10 training composites), majority 1.16
    assert 4 * report.scores["integrals"][0] < report.scores["majority"][0], report.line()
    n = len(names) - len(held_out)
    assert report.line().startswith(f"development folds: {n} composites, each predicted by the "
                                    "networks and baselines of the 3-fold cross-validation")
