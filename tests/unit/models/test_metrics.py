"""magvox's numpy metrics give sklearn's values (the definitions the trial metrics promise)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from models import metrics as mm


@pytest.mark.parametrize("seed", range(6))
def test_classification_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]  # both classes present
    prob = np.round(rng.random(n), 1)  # rounded: ties in the ranking
    got = mm.classification_metrics(y, prob, 0.7)
    pred = (prob >= 0.5).astype(int)
    assert got["loss"] == 0.7
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(
        skm.f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, prob))


def test_one_class_present() -> None:
    y = np.zeros(5, int)
    prob = np.array([0.1, 0.2, 0.7, 0.3, 0.9])
    got = mm.classification_metrics(y, prob, 0.0)
    pred = (prob >= 0.5).astype(int)
    with pytest.warns(UserWarning):  # sklearn warns that class 1 never occurs in y
        expected = skm.balanced_accuracy_score(y, pred)
    assert got["balanced_accuracy"] == pytest.approx(expected) == 0.6
    assert got["macro_f1"] == pytest.approx(
        skm.f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))
    assert np.isnan(got["roc_auc"])


@pytest.mark.parametrize("seed", range(4))
def test_regression_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, pred = rng.normal(size=17), rng.normal(size=17)
    got = mm.regression_metrics(y, pred, 1.5)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred))
    const = np.full(4, 2.0)
    assert mm.r2(const, const) == skm.r2_score(const, const) == 1.0
    assert mm.r2(const, const + 1) == skm.r2_score(const, const + 1) == 0.0
    assert np.isnan(mm.regression_metrics(y, pred * np.nan, 0.0)["mae"])


def test_rows_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    y, pred = rng.integers(0, 2, (50, 12)), rng.integers(0, 2, (50, 12))
    rows = mm.balanced_accuracy(y, pred)
    assert rows.shape == (50,)
    for i in range(50):
        if len(np.unique(y[i])) == 2:
            assert rows[i] == pytest.approx(skm.balanced_accuracy_score(y[i], pred[i]))
    yr, pr = rng.normal(size=(9, 5)), rng.normal(size=(9, 5))
    expected = [skm.mean_absolute_error(a, b) for a, b in zip(yr, pr, strict=True)]
    assert np.allclose(mm.mae(yr, pr), expected)
