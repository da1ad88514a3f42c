"""``magvox train`` / ``magvox estimate`` without --preset: the default search's learner (the
fixed settings and first enqueued configuration of search/spaces/default.yaml, its ``targets``
entry for the target); with --preset NAME, that preset as before."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from models.estimate import estimate
from search.commands.cli import main
from search.commands.train import add_config_arguments, trial_config
from search.tune.space import SPACES_DIR

DEFAULT = yaml.safe_load((SPACES_DIR / "default.yaml").read_text())


def _config(*argv: str):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return trial_config(parser.parse_args(list(argv)))


def _fields(config) -> dict:
    """The flat fields, per-block tuples of one block as the scalar the space file writes."""
    flat = config.to_dict()
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in flat.items()}


def test_no_preset_trains_the_default_searchs_first_configuration():
    flat = _fields(_config())
    expected = {**DEFAULT["fixed"], **DEFAULT["enqueue"][0]}
    assert {k: flat[k] for k in expected} == expected
    assert flat["preset"] == "periodic-fast" and flat["epochs"] == 12 and flat["folds"] == 3
    assert flat["lr_schedule"] == "cosine" and flat["input_norm"] == "p99"


def test_the_targets_entry_and_set_values_apply_in_that_order():
    regression = DEFAULT["targets"]["moment"]
    flat = _fields(_config("--set", "target=moment", "--set", "batch_size=2"))
    assert flat["epochs"] == regression["epochs"] == 30
    assert flat["lr"] == regression["enqueue"]["lr"] and flat["feature_norm"] is False
    assert flat["batch_size"] == 2  # --set wins over the targets entry's enqueued 4
    assert _config("--set", "target=moment_class").classify_by == "moment"


def test_a_preset_keeps_its_own_settings():
    config = _config("--preset", "seed-base", "--set", "epochs=2")
    assert config.preset == "seed-base" and config.lr == 100.0 and config.epochs == 2
    assert config.model.kernel_sizes == (40,) and config.lr_schedule == "constant"


def test_estimate_without_preset_estimates_the_default_learner(capsys):
    assert main(["estimate", "--json", "--memory-mb", "100000", "--samples", "10"]) == 0
    shown = json.loads(capsys.readouterr().out)
    learner = estimate(_config(), n_samples=10, available_mb=100000)
    assert shown["params"] == learner.params and shown["train_memory_mb"] == pytest.approx(
        learner.train_memory_mb)
    assert shown["params"] != estimate({"preset": "seed-base"}, n_samples=10).params
