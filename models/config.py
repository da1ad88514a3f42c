"""ModelConfig: every architectural hyperparameter of the Conv3D family, and its validation.

Validation runs before any compute: an impossible configuration raises one ``ConfigError`` that
names the offending field, so a search can log the reason and skip the trial.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import typing
from dataclasses import dataclass
from typing import Any

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid")
PADDINGS = ("valid", "circular")
BACKENDS = ("direct", "fft", "auto")
HEADS = ("cnn", "hybrid", "composition")


class ConfigError(ValueError):
    """An impossible or unknown configuration value; ``.field`` names the field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one network: conv blocks, then pooling, then a dense head.

    Each conv block i is Conv3d(conv_filters[i], kernel_sizes[i], strides[i]) -> activation ->
    MaxPool3d(pool_sizes[i]) (pool 1 = none). Per-block tuples must have equal length (the depth).

    Attributes:
        in_channels: input channels; 2 for (max(m,0), max(-m,0)), 1 for the signed density m.
        conv_filters: output channels per conv block. Table 2 used 1-4.
        kernel_sizes: cubic kernel edge per block, grid points. 40 is the original; > ~7 wants fft.
        strides: stride per block (same along a, b, c).
        pool_sizes: max-pool edge after each block; 1 disables it.
        activation: one of ACTIVATIONS, after every conv and hidden dense layer.
        dense: widths of hidden dense layers before the output layer (() = none).
        num_outputs: 2 for a classifier (logits, softmax in the loss), 1 for regression.
        tiling: in-plane periodic repeats (a, b, c) applied in ``forward``; (2, 2, 1) is the
            original work-around for zero padding, (1, 1, 1) with circular padding is exact.
        padding: ``valid`` (original; no padding) or ``circular`` (periodic, output keeps size).
        backend: ``direct`` (torch conv3d), ``fft`` (torch.fft), ``auto`` (fft for large kernels).
        global_pool: average over the whole grid before the head (shift-invariant with circular).
        feature_norm: batch-normalise the features entering the dense head. Globally pooled
            features of a mostly-vacuum cell are ~0.01 of the input scale, so without it the
            head's weights must grow by ~100x before the output moves (hundreds of steps).
        aux_outputs: extra regression outputs for auxiliary targets (multi-task training,
            ``TrialConfig.aux_targets``); ``forward`` returns the ``num_outputs`` main outputs
            only, ``activations(...)["aux"]`` these.
        head: what the dense head reads: ``cnn`` (default) the pooled density features;
            ``hybrid`` those joined with the composite's composition encoding
            (``models.composition``: site elements and their properties); ``composition`` the
            encoding alone, no conv block (the density network's twin, trained like it).
    """

    in_channels: int = 2
    conv_filters: tuple[int, ...] = (3,)
    kernel_sizes: tuple[int, ...] = (40,)
    strides: tuple[int, ...] = (1,)
    pool_sizes: tuple[int, ...] = (2,)
    activation: str = "relu"
    dense: tuple[int, ...] = ()
    num_outputs: int = 2
    tiling: tuple[int, int, int] = (2, 2, 1)
    padding: str = "valid"
    backend: str = "fft"
    global_pool: bool = False
    feature_norm: bool = False
    aux_outputs: int = 0
    head: str = "cnn"

    @property
    def depth(self) -> int:
        """Number of conv blocks."""
        return len(self.conv_filters)

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with ``changes`` applied (tuples coerced from lists)."""
        return coerce(dataclasses.replace(self, **changes))


TUPLE_FIELDS = ("conv_filters", "kernel_sizes", "strides", "pool_sizes", "dense", "tiling")


def coerce(cfg: ModelConfig) -> ModelConfig:
    """Turn lists / scalars from YAML, JSON or Optuna into the tuples the dataclass declares.

    A scalar per-block value (``kernel_sizes=5``) is repeated for every conv block.
    """
    filters = cfg.conv_filters
    depth = 1 if isinstance(filters, int | float) else len(filters)
    fixes: dict[str, Any] = {}
    for name in TUPLE_FIELDS:
        original = value = getattr(cfg, name)
        if isinstance(value, int | float):
            value = (value,) * (3 if name == "tiling" else 1 if name == "dense" else depth)
        fixed = tuple(int(v) for v in value)
        if fixed != original or not isinstance(original, tuple):
            fixes[name] = fixed
    return dataclasses.replace(cfg, **fixes) if fixes else cfg


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_ints(value: Any) -> bool:
    """One integer (repeated per block by ``coerce``) or a list of integers."""
    return _is_int(value) or (isinstance(value, list | tuple) and all(map(_is_int, value)))


KIND_CHECKS = {  # declared type -> (check, what the error says was expected)
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (_is_int, "an integer"),
    "float": (_is_number, "a number"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "tuple": (_is_ints, "an integer or a list of integers, e.g. [4, 4]"),
}


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_types(cls: type, values: dict[str, Any]) -> None:
    """ConfigError naming the first field of ``values`` whose value is not of the type the
    dataclass ``cls`` declares for it (ints count as floats, never bools as numbers); fields of
    other declared types, and names ``cls`` lacks, are left to the caller."""
    hints = _type_hints(cls)
    for name, value in values.items():
        hint = hints.get(name)
        kind = getattr(typing.get_origin(hint) or hint, "__name__", None)
        check, want = KIND_CHECKS.get(kind, (None, ""))
        if check is not None and not check(value):
            shown = list(value) if isinstance(value, tuple) else value  # as the user wrote it
            raise ConfigError(name, f"expected {want}, got {shown!r}")


def conv_output_size(n: int, kernel: int, stride: int, padding: str) -> int:
    """Output length of one axis: valid -> (n - k)//s + 1, circular -> ceil(n / s)."""
    if padding == "circular":
        return (n + stride - 1) // stride
    return (n - kernel) // stride + 1


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(choices)}")


def _check_lengths(cfg: ModelConfig) -> None:
    if cfg.depth < 1:
        raise ConfigError("conv_filters", "at least one conv block is needed")
    for name in ("kernel_sizes", "strides", "pool_sizes"):
        if len(getattr(cfg, name)) != cfg.depth:
            raise ConfigError(
                name, f"has {len(getattr(cfg, name))} entries, conv_filters has {cfg.depth}"
            )
    for name in TUPLE_FIELDS:
        bad = [v for v in getattr(cfg, name) if v < 1]
        if bad:
            raise ConfigError(name, f"sizes must be positive, got {getattr(cfg, name)}")
    if len(cfg.tiling) != 3:
        raise ConfigError("tiling", f"needs 3 repeats (a, b, c), got {cfg.tiling}")
    if cfg.in_channels < 1 or cfg.num_outputs < 1:
        field_name = "in_channels" if cfg.in_channels < 1 else "num_outputs"
        raise ConfigError(field_name, "must be positive")
    if cfg.aux_outputs < 0:
        raise ConfigError("aux_outputs", f"must be >= 0, got {cfg.aux_outputs}")


def layer_shapes(cfg: ModelConfig, grid: tuple[int, int, int]) -> list[tuple[int, ...]]:
    """Shapes (C, Nx, Ny, Nz) after tiling and after each conv and pool, without the batch axis.

    Raises ConfigError naming the field whose value makes the network impossible.
    """
    cfg = coerce(cfg)
    _check_lengths(cfg)
    _check_choice("activation", cfg.activation, ACTIVATIONS)
    _check_choice("padding", cfg.padding, PADDINGS)
    _check_choice("backend", cfg.backend, BACKENDS)
    _check_choice("head", cfg.head, HEADS)
    if len(grid) != 3 or min(grid) < 1:
        raise ConfigError("grid", f"needs three positive sizes, got {grid}")
    size = [g * t for g, t in zip(grid, cfg.tiling, strict=True)]
    shapes: list[tuple[int, ...]] = [(cfg.in_channels, *size)]
    for i in range(cfg.depth):
        k, s, p = cfg.kernel_sizes[i], cfg.strides[i], cfg.pool_sizes[i]
        if k > min(size):
            raise ConfigError(f"kernel_sizes[{i}]", f"kernel {k} is larger than its input {size}")
        size = [conv_output_size(n, k, s, cfg.padding) for n in size]
        shapes.append((cfg.conv_filters[i], *size))
        if p > 1:
            if p > min(size):
                raise ConfigError(f"pool_sizes[{i}]", f"pool {p} is larger than its input {size}")
            size = [n // p for n in size]
            shapes.append((cfg.conv_filters[i], *size))
    return shapes


def validate_model(cfg: ModelConfig, grid: tuple[int, int, int]) -> None:
    """Raise ConfigError if ``cfg`` cannot run on an untiled (Nx, Ny, Nz) grid; else None."""
    layer_shapes(cfg, grid)
