"""Optuna side of a space: the define-by-run function, samplers, and flat params -> trial config.

Ray's ``OptunaSearch`` calls the define-by-run function with an ``optuna.Trial``; the values it
suggests (flat names such as ``kernel_sizes_1``) plus the returned constants (the space's fixed
fields) become the Tune config of the trial. ``trial_dict`` turns that flat config back into the
nested TrialConfig fields models expects (per-layer tuples, tilings as tuples).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.tune.space import Param, Space

SAMPLERS = ("random", "tpe")  # Optuna's RandomSampler and TPESampler (make_sampler)

LIST_SEP = "x"  # tiling [2, 2, 1] is offered to Optuna as the string "2x2x1"


def encode_choice(value: Any) -> Any:
    """Optuna categoricals hold None/bool/int/float/str: lists become ``"2x2x1"``."""
    if isinstance(value, list | tuple):
        return LIST_SEP.join(str(v) for v in value)
    return value


def decode_choice(value: Any) -> Any:
    """Inverse of ``encode_choice`` for strings made only of ``x``-separated integers."""
    if isinstance(value, str) and LIST_SEP in value:
        parts = value.split(LIST_SEP)
        if all(p.isdigit() for p in parts):
            return tuple(int(p) for p in parts)
    return value


def suggest(trial: Any, param: Param, name: str) -> Any:
    """Ask ``trial`` (an optuna.Trial) for one value of ``param`` under Optuna name ``name``."""
    if param.type == "categorical":
        return trial.suggest_categorical(name, [encode_choice(c) for c in param.choices])
    if param.type == "int":
        step = int(param.step or 1)
        return trial.suggest_int(name, int(param.low), int(param.high), step=step, log=param.log)
    return trial.suggest_float(name, param.low, param.high, step=param.step, log=param.log)


class DefineByRun:
    """The function OptunaSearch calls per trial: depth first, then per-layer and global params.

    A class (not a closure) so Ray can pickle the searcher into the experiment state.
    """

    def __init__(self, space: Space) -> None:
        self.space = space

    def __call__(self, trial: Any) -> dict[str, Any]:
        space = self.space
        by_name = {p.name: p for p in space.params}
        depth = int(space.fixed.get("depth", 1))
        if "depth" in by_name:
            depth = int(suggest(trial, by_name["depth"], "depth"))
        for p in space.params:
            if p.name == "depth":
                continue
            if p.per_layer:
                for i in range(depth):
                    suggest(trial, p, f"{p.name}_{i}")
            else:
                suggest(trial, p, p.name)
        return dict(space.fixed)


def define_by_run(space: Space) -> Callable[[Any], dict[str, Any]]:
    """The define-by-run function of ``space`` (see DefineByRun)."""
    return DefineByRun(space)


def trial_dict(space: Space, config: dict[str, Any]) -> dict[str, Any]:
    """A Tune config (flat Optuna names + fixed fields) -> TrialConfig fields as plain data."""
    out: dict[str, Any] = dict(space.fixed)
    depth = int(config.get("depth", space.fixed.get("depth", 1)))
    for p in space.params:
        if p.name == "depth":
            continue
        if p.per_layer:
            out[p.name] = tuple(decode_choice(config[f"{p.name}_{i}"]) for i in range(depth))
        elif p.name in config:
            out[p.name] = decode_choice(config[p.name])
    out.pop("depth", None)
    for name, value in out.items():
        if isinstance(value, list):
            out[name] = tuple(value)
    return out


def first_config(space: Space) -> dict[str, Any]:
    """TrialConfig fields of the space's first enqueued configuration (the one a search tries
    first), over its fixed fields; the fixed fields alone where it enqueues none."""
    return trial_dict(space, dict(space.enqueue[0]) if space.enqueue else {})


def default_learner(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default search's first configuration (``search/spaces/default.yaml``: its fixed
    settings, its ``targets`` entry for the target asked for, and its first enqueued point) with
    ``overrides`` (``--set``) winning: what ``magvox train`` runs without ``--preset``."""
    from search.tune.space import load_space

    return first_config(load_space("default", overrides))


def make_sampler(kind: str, seed: int) -> Any:
    """Optuna's sampler by name: ``random`` (RandomSampler) or ``tpe`` (TPESampler)."""
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=4)
    raise ValueError(f"sampler: expected {' or '.join(SAMPLERS)}, got {kind!r}")
