"""Every registered model runs; periodicity; validation names the field; public accessors."""

from __future__ import annotations

import pytest
import torch

from models.config import ConfigError, ModelConfig, layer_shapes
from models.presets import create_model, get_preset, list_models
from models.trial import TrialConfig, validate

GRID = (10, 10, 12)  # small stand-in for (60, 60, 120): tests stay fast
SMALL = {"seed-base": {"kernel_sizes": (7,)},
         "seed-largep": {"kernel_sizes": (7,), "strides": (4,)}}


def test_registry_lists_the_presets():
    assert {"seed-base", "seed-small", "seed-largep", "periodic"} <= set(list_models())
    with pytest.raises(KeyError, match="seed-base"):
        get_preset("nope")


@pytest.mark.parametrize("name", list_models())
def test_every_model_forward_backward(name):
    torch.manual_seed(0)
    model = create_model(name, grid=GRID, **SMALL.get(name, {}))
    x = torch.randn(3, model.cfg.in_channels, *GRID)
    y = model(x)
    assert y.shape == (3, model.cfg.num_outputs)
    assert torch.isfinite(y).all()
    y.square().sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list_models())
def test_backends_agree(name):
    torch.manual_seed(1)
    model = create_model(name, grid=GRID, **SMALL.get(name, {})).double()
    x = torch.randn(2, model.cfg.in_channels, *GRID, dtype=torch.float64)
    outs = []
    for backend in ("direct", "fft"):
        model.set_backend(backend)
        outs.append(model(x))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=1e-10)


def test_real_base_model_shapes_without_running_it():
    shapes = layer_shapes(get_preset("seed-base").model, (60, 60, 120))
    assert shapes == [(2, 120, 120, 120), (3, 81, 81, 81), (3, 40, 40, 40)]
    assert layer_shapes(get_preset("seed-largep").model, (60, 60, 120))[-1] == (3, 2, 2, 2)


@pytest.mark.parametrize("shift", [(1, 0), (0, 3), (4, 7)])
def test_periodic_preset_is_invariant_to_rolling_along_a_and_b(shift):
    torch.manual_seed(2)
    model = create_model("periodic", grid=GRID).double()
    x = torch.randn(2, 2, *GRID, dtype=torch.float64)
    rolled = torch.roll(x, shifts=shift, dims=(2, 3))
    torch.testing.assert_close(model(rolled), model(x), rtol=0, atol=1e-12)
    assert not torch.allclose(model.activations(rolled)["conv0"], model.activations(x)["conv0"])


def test_activations_and_filters_are_public():
    model = create_model("seed-small", grid=GRID)
    acts = model.activations(torch.randn(1, 2, *GRID))
    assert list(acts)[:3] == ["conv0", "act0", "pool0"] and "output" in acts
    assert model.filters(0).shape == (3, 2, 5, 5, 5)
    assert model.filters(1).shape == (5, 3, 3, 3, 3)
    assert not model.filters(0).requires_grad


@pytest.mark.parametrize(
    "change, field",
    [({"kernel_sizes": (130,)}, "kernel_sizes[0]"),
     ({"kernel_sizes": (0,)}, "kernel_sizes"),
     ({"pool_sizes": (90,)}, "pool_sizes[0]"),
     ({"strides": (1, 1)}, "strides"),
     ({"padding": "same"}, "padding"),
     ({"activation": "swish"}, "activation"),
     ({"backend": "cuda"}, "backend")],
)
def test_impossible_model_configs_name_the_field(change, field):
    with pytest.raises(ConfigError) as err:
        layer_shapes(ModelConfig().replace(**change), (60, 60, 120))
    assert err.value.field == field
    assert str(err.value).startswith(field)


@pytest.mark.parametrize(
    "change, field",
    [({"lr": 0.0}, "lr"), ({"batch_size": 0}, "batch_size"), ({"target": "tc"}, "target"),
     ({"optimizer": "lbfgs"}, "optimizer"), ({"input_channels": "rgb"}, "input_channels"),
     ({"folds": 1}, "folds"), ({"kernel_sizes": [200]}, "kernel_sizes[0]")],
)
def test_validate_trial_names_the_field(change, field):
    with pytest.raises(ConfigError) as err:
        validate(TrialConfig.from_dict({"preset": "seed-base", **change}), (60, 60, 120))
    assert err.value.field == field


def test_trial_config_round_trips_and_rejects_unknown_keys():
    cfg = TrialConfig.from_dict({"preset": "seed-small", "lr": 0.1, "kernel_sizes": [7, 3],
                                 "input_channels": "signed", "target": "moment"})
    assert cfg.model.kernel_sizes == (7, 3) and cfg.momentum == 0.9  # preset default kept
    assert TrialConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.model_config().in_channels == 1 and cfg.model_config().num_outputs == 1
    validate(cfg, (60, 60, 120))
    with pytest.raises(ConfigError, match="kernel_size"):
        TrialConfig.from_dict({"kernel_size": 3})


def test_scalar_block_values_become_tuples():
    from models.trial import TrialConfig

    config = TrialConfig.from_dict({"preset": "periodic-fast", "conv_filters": 8,
                                    "kernel_sizes": 5, "strides": 3, "dense": 16})
    model = config.model_config()
    assert (model.conv_filters, model.kernel_sizes, model.strides, model.dense) == (
        (8,), (5,), (3,), (16,))
