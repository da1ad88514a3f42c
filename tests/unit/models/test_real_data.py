"""Every preset trains end to end on the bundled dataset (real GPAW spin densities, 60x60x120)."""

from __future__ import annotations

import math

import pytest

from models.presets import list_models
from models.train import run_trial


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_preset_trains_one_epoch_on_the_bundled_dataset(bundled_dataset, name):
    result = run_trial({"preset": name, "epochs": 1, "lr": 0.01, "target": "moment",
                        "folds": 0}, bundled_dataset)
    record = result.history[0]
    assert math.isfinite(record["train_loss"]) and math.isfinite(record["val_mae"])
    assert set(result.val_composites).isdisjoint(result.test_composites)
    assert set(result.train_composites).isdisjoint(result.test_composites)
    assert len(result.test_composites) >= 10
    assert set(result.baselines) == {"majority", "composition"}
