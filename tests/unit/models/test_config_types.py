"""Property: a value of the wrong type for any TrialConfig or ModelConfig field is refused by one
ConfigError naming the field and the value, never a TypeError deep in training; and whatever
text ``--set FIELD=TEXT`` carries, the CLI's configuration is either typed or refused cleanly."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from models.config import ConfigError, ModelConfig
from models.trial import TrialConfig, validate
from search.commands.train import trial_config

GRID = (8, 8, 16)
MODEL = {f.name: f.type for f in fields(ModelConfig)}
TRIAL = {f.name: f.type for f in fields(TrialConfig) if f.name != "model"}
FIELDS = {**TRIAL, **MODEL}

# values that are never of a kind; ints stand for floats and for per-block tuples (one entry per
# block), so those kinds leave them out
FRACTION = st.floats(allow_nan=False).filter(lambda v: not v.is_integer())
ODD = [st.none(), st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2)]
WORDS = st.text(max_size=8)
WRONG = {
    "str": st.one_of(*ODD, st.integers(), st.floats(), st.booleans(),
                     st.lists(WORDS, min_size=1, max_size=3)),
    "int": st.one_of(*ODD, WORDS, st.booleans(), FRACTION, st.lists(st.integers(), max_size=3)),
    "float": st.one_of(*ODD, WORDS, st.booleans(), st.lists(st.floats(), max_size=3)),
    "bool": st.one_of(*ODD, WORDS, st.integers(), st.floats()),
    "tuple": st.one_of(*ODD, WORDS, st.booleans(), FRACTION,
                       st.lists(st.one_of(WORDS, FRACTION, st.none()), min_size=1, max_size=3)),
}


def kind(annotation: str) -> str:
    """``tuple[int, ...]`` -> tuple; ``float`` -> float (the dataclasses' string annotations)."""
    return annotation.split("[")[0]


def test_every_field_has_a_wrong_value_strategy():
    assert {kind(t) for t in FIELDS.values()} <= set(WRONG)
    assert "lr" in FIELDS and "kernel_sizes" in FIELDS and "feature_norm" in FIELDS


@settings(max_examples=300, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(FIELDS)))
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(data, name):
    value = data.draw(WRONG[kind(FIELDS[name])], label=name)
    with pytest.raises(ConfigError) as err:
        validate(TrialConfig.from_dict({name: value}), GRID)
    assert err.value.field == name and repr(value) in str(err.value)
    assert str(err.value).startswith(f"{name}: expected ")


def test_the_message_names_field_value_and_type():
    with pytest.raises(ConfigError, match=r"^lr: expected a number, got 'abc'$"):
        TrialConfig.from_dict({"lr": "abc"})
    with pytest.raises(ConfigError, match=r"^tiling: expected an integer or a list of integers"):
        TrialConfig.from_dict({"preset": "periodic", "tiling": "2x2x1"})
    with pytest.raises(ConfigError, match=r"^model: expected a mapping"):
        TrialConfig.from_dict({"model": [1]})
    with pytest.raises(ConfigError, match=r"^preset: unknown preset 'nosuch'"):
        TrialConfig.from_dict({"preset": "nosuch"})


def test_values_of_the_right_type_pass():
    config = TrialConfig.from_dict({"preset": "periodic-fast", "lr": 1, "epochs": 3,
                                    "kernel_sizes": 5, "tiling": [1, 1, 1], "feature_norm": False,
                                    "moment_threshold_uB": 3.5})
    validate(config, GRID)
    assert config.lr == 1 and config.model.kernel_sizes == (5,) and config.epochs == 3


def flow_yaml(value: object) -> str:
    """``value`` as one line of YAML, the way a user types it after ``--set KEY=``."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).removesuffix(
        "\n...\n").strip()


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=2), max_leaves=4)
SET_TEXT = st.one_of(st.text(max_size=12), YAML_VALUES.map(flow_yaml))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(FIELDS)), text=SET_TEXT)
def test_any_set_text_is_typed_or_refused(name, text):
    args = argparse.Namespace(preset=None, overrides=[f"{name}={text}"])
    try:
        config = trial_config(args)
        validate(config, GRID)
    except ValueError:  # ConfigError, OverrideError, SpaceError: one line for the user
        return
    value = getattr(config.model if name in MODEL else config, name)
    assert OF_KIND[kind(FIELDS[name])](value), (name, text, value)


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


OF_KIND = {"str": lambda v: isinstance(v, str), "bool": lambda v: isinstance(v, bool),
           "int": _int, "float": lambda v: _int(v) or isinstance(v, float),
           "tuple": lambda v: isinstance(v, tuple) and all(map(_int, v))}
