"""Space files: parsing, errors naming the key, sampling with Optuna, flat params -> fields."""

from __future__ import annotations

import optuna
import pytest

from search.tune.sampling import decode_choice, define_by_run, encode_choice, trial_dict
from search.tune.space import SpaceError, load_space, space_from_dict


def test_bundled_spaces_parse_and_table2_reproduces_the_original_ranges() -> None:
    table2 = load_space("table2")
    by_name = {p.name: p for p in table2.params}
    assert len(by_name["kernel_sizes"].choices) == 30
    assert max(by_name["kernel_sizes"].choices) > 40
    assert (by_name["lr"].low, by_name["lr"].high, by_name["lr"].log) == (0.01, 100.0, True)
    assert (by_name["conv_filters"].low, by_name["conv_filters"].high) == (1, 4)
    assert load_space("default").settings.trials <= 8


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"params": {"lr": {"type": "float", "low": 1}}}, "params.lr"),
        ({"params": {"lr": {"type": "weird"}}}, "params.lr"),
        ({"settings": {"mode": "up"}}, "settings.mode"),
        ({"settings": {"nope": 1}}, "settings"),
        ({"bogus": 1}, "bogus"),
        ({"params": {"lr": {"type": "float", "low": 0, "high": 1, "log": True}}}, "log"),
    ],
)
def test_bad_spaces_name_the_key(raw: dict, words: str) -> None:
    with pytest.raises(SpaceError, match=words):
        space_from_dict(raw, source="x.yaml")


def test_choice_encoding_round_trips_tilings() -> None:
    assert encode_choice([2, 2, 1]) == "2x2x1"
    assert decode_choice("2x2x1") == (2, 2, 1)
    assert decode_choice("circular") == "circular"


def test_define_by_run_samples_one_value_per_layer_and_trial_dict_assembles_tuples() -> None:
    space = load_space("table2")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    sample = define_by_run(space)
    for _ in range(20):
        trial = study.ask()
        fixed = sample(trial)
        config = {**trial.params, **fixed}
        fields = trial_dict(space, config)
        depth = trial.params["depth"]
        for name in ("conv_filters", "kernel_sizes", "strides", "pool_sizes"):
            assert len(fields[name]) == depth
        assert fields["tiling"] in ((1, 1, 1), (2, 2, 1))
        assert fields["preset"] == "seed-base" and "depth" not in fields
        study.tell(trial, 0.5)


def test_space_round_trips_through_to_dict() -> None:
    space = load_space("table2")
    again = space_from_dict(space.to_dict())
    assert again.params == space.params and again.settings == space.settings
    assert again.enqueue == space.enqueue


def test_per_target_fields_then_overrides_are_fixed_and_leave_params_and_enqueue() -> None:
    from search.tune.space import resolve_targets

    space = load_space("default", {"target": "moment_class"})
    assert space.fixed["epochs"] == 30 and space.fixed["classify_by"] == "moment"
    assert "feature_norm" not in {p.name for p in space.params}
    assert all("feature_norm" not in point for point in space.enqueue)
    plain = load_space("default")
    assert plain.fixed["epochs"] == 12 and "classify_by" not in plain.fixed
    assert "feature_norm" in {p.name for p in plain.params}
    mine = load_space("default", {"target": "moment", "epochs": 5, "lr": 0.02})
    assert mine.fixed["epochs"] == 5 and mine.fixed["lr"] == 0.02  # --set wins
    assert "lr" not in {p.name for p in mine.params}
    assert all("lr" not in point for point in mine.enqueue)
    with pytest.raises(SpaceError, match=r"targets\.moment: expected a mapping"):
        resolve_targets({"fixed": {"target": "moment"}, "targets": {"moment": 3}}, {}, "s.yaml")


def test_a_target_re_ranges_sampled_parameters_and_its_enqueued_values() -> None:
    from search.tune.space import resolve_targets

    raw = {"fixed": {"target": "moment"},
           "params": {"lr": {"type": "float", "low": 0.003, "high": 0.03, "log": True},
                      "dense": {"type": "categorical", "choices": [8, 16]}},
           "enqueue": [{"lr": 0.01, "dense": 16}],
           "targets": {"moment": {"epochs": 30, "params": {
               "lr": {"type": "float", "low": 0.01, "high": 0.1, "log": True}},
               "enqueue": {"lr": 0.03}}}}
    out = space_from_dict(resolve_targets(raw, {}, "s.yaml"))
    lr = next(p for p in out.params if p.name == "lr")
    assert (lr.low, lr.high) == (0.01, 0.1) and out.fixed["epochs"] == 30
    assert list(out.enqueue) == [{"lr": 0.03, "dense": 16}]
    # another target keeps the space's own range and point; --set still wins over both
    other = space_from_dict(resolve_targets(raw, {"target": "ground_state"}, "s.yaml"))
    assert next(p for p in other.params if p.name == "lr").high == 0.03
    assert list(other.enqueue) == [{"lr": 0.01, "dense": 16}]
    fixed = space_from_dict(resolve_targets(raw, {"lr": 0.05}, "s.yaml"))
    assert "lr" not in {p.name for p in fixed.params} and fixed.fixed["lr"] == 0.05
    assert list(fixed.enqueue) == [{"dense": 16}]
    bad = {**raw, "targets": {"moment": {"params": [1]}}}
    with pytest.raises(SpaceError, match=r"targets\.moment\.params: expected a mapping"):
        resolve_targets(bad, {}, "s.yaml")
