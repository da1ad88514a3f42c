"""Proof that the trainer learns, on the bundled Te dataset (real GPAW spin densities).

The figures are read on the dataset's held-out test composites, which no search ever sees:
- a CNN reaches 100% training accuracy on 8 training composites (it can fit at all);
- ``moment`` regression from the FM density, MAE below 0.1 uB: the moment is the integral of
  that density, so a trainer that cannot find it cannot find anything subtler;
- ``moment_class`` (FM moment > 4 uB): balanced accuracy >= 0.90, above both baselines beyond
  the 95% interval, with the class read off the regressed moment (``classify_by=moment``). The
  Te test split holds three composites within 0.04 uB below the threshold (3.969, 3.996, 3.999),
  and 0.90 allows one error among its five class-0 composites: measured 0.900 [0.70, 1.00]
  against 0.50 and 0.52. A softmax classifier of the same network reached 0.833 (25 epochs).
Seeded: CPU runs are bitwise repeatable.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.evaluate import score_test_split
from models.member import evaluate, new_member, train_epoch
from models.train import make_augmenter, prepare
from models.trial import TrialConfig

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


def test_cnn_fits_eight_training_composites(bundled_dataset):
    config = TrialConfig.from_dict({"preset": "periodic-fast", "target": "moment_class",
                                    "epochs": 30, "batch_size": 4, "lr": 0.03,
                                    "feature_norm": False})
    config, samples, x = prepare(config, bundled_dataset, torch.device("cpu"))
    dev = np.flatnonzero(~samples.test)
    eight = np.concatenate([dev[samples.y[dev] == c][:4] for c in (0, 1)])
    member = new_member(config, x, samples.y, samples.grid, (eight, eight))
    augment = make_augmenter(config, samples)
    for epoch in range(config.epochs):
        train_epoch(config, member, x, augment, epoch)
    assert evaluate(config, member, x, eight)["accuracy"] == 1.0


MOMENT = {"preset": "periodic-fast", "epochs": 30, "lr": 0.03, "feature_norm": False,
          "lr_schedule": "cosine"}


def test_moment_regression_on_the_test_split(bundled_dataset):
    report = score_test_split({**MOMENT, "target": "moment"}, bundled_dataset)
    assert len(report.test_composites) >= 10
    cnn = report.scores["cnn"][0]
    assert cnn < 0.1, report.line()  # uB
    assert report.beats("majority") and report.beats("composition"), report.line()


def test_moment_regression_across_s_se_te(bundled_dataset):
    """The same network on all of Table 1 (data/cgt.yaml: 165 composites, three stores) reads the
    moment off test composites of every X: measured 0.012 uB [0.009, 0.015] on 32 test
    composites with a moment label, against 1.04 (majority) and 0.34 (composition)."""
    from data_prep.holdout import chalcogen

    report = score_test_split({**MOMENT, "target": "moment"}, bundled_dataset.parent / "cgt.yaml")
    assert len(report.test_composites) >= 30
    assert {chalcogen(c) for c in report.test_composites} == {"S", "Se", "Te"}
    assert report.scores["cnn"][0] < 0.1, report.line()  # uB
    assert report.beats("majority") and report.beats("composition"), report.line()


def test_moment_class_on_the_test_split(bundled_dataset):
    # the class read off a regressed moment (classify_by=moment); three test composites sit
    # within 0.04 uB below the 4 uB threshold (3.969, 3.996, 3.999), so one may fall either way
    report = score_test_split({**MOMENT, "target": "moment_class", "classify_by": "moment"},
                             bundled_dataset)
    assert report.scores["cnn"][0] >= 0.90, report.line()
    assert report.beats("majority") and report.beats("composition"), report.line()
