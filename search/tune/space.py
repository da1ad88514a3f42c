"""Search spaces: a YAML file -> an Optuna define-by-run function and the trial configurations.

A space file has three parts (see ``search/spaces/table2.yaml`` for the full Table 2 space)::

    settings:            # how the search runs (all optional; defaults in ``SearchSettings``)
      metric: val_balanced_accuracy
      mode: max
      trials: 8
      ...
    fixed:               # TrialConfig fields every trial shares (dataset target, epochs, ...)
      target: moment_class
    params:              # sampled TrialConfig fields
      depth: {type: int, low: 1, high: 2}          # number of conv blocks
      conv_filters: {type: int, low: 1, high: 4, per_layer: true}
      kernel_sizes: {type: categorical, choices: [3, 5, 40], per_layer: true}
      lr: {type: float, low: 0.01, high: 100, log: true}
      tiling: {type: categorical, choices: [[1, 1, 1], [2, 2, 1]]}
    enqueue:             # optional configurations tried first (Optuna's enqueue_trial)
      - {depth: 1, conv_filters_0: 3, kernel_sizes_0: 40, lr: 100}
    targets:             # optional: per target, fields fixed and parameters re-ranged
      moment: {epochs: 30, params: {lr: {type: float, low: 0.01, high: 0.1}},
               enqueue: {lr: 0.03}}

``targets`` lets one space serve every target (the default space trains regression 30 epochs
with learning rates of its own): an entry's fields are fixed, its ``params`` replace the sampled
parameters of the same name and its ``enqueue`` values go into every enqueued point. ``--set``
overrides win over both ``fixed`` and ``targets``, and a fixed field is taken out of the sampled
parameters and of the enqueued points.

``per_layer`` parameters are sampled once per conv block (Optuna names ``<field>_<i>``) and
assembled into the tuple field; the depth is sampled first, so TPE sees conditional parameters.
Categorical choices that are lists (tilings) are offered to Optuna as strings ``"2x2x1"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

SPACES_DIR = Path(__file__).resolve().parents[1] / "spaces"  # search/spaces
PARAM_TYPES = ("categorical", "int", "float")


class SpaceError(ValueError):
    """A malformed space file; the message names the file and the key at fault."""


@dataclass(frozen=True)
class SearchSettings:
    """How a search runs; every field can be set under ``settings:`` in the space file.

    Attributes:
        metric: result key the sampler and the scheduler optimise (per epoch, from models):
            ``val_<metric>``, the mean over the cross-validation folds. ``auto`` (default):
            val_balanced_accuracy for a classification target, val_mae for a regression one.
        mode: ``max`` or ``min``; ``auto`` (default) follows the metric.
        trials: number of trials (feasible configurations) to run; ``--trials`` overrides.
        sampler: ``random`` or ``tpe``; ``--sampler`` overrides.
        seed: sampler seed (reproducible suggestions).
        cpus_per_trial / gpus_per_trial: Ray resources per trial; fractions share a GPU.
        max_concurrent: trials running at once (0 = as many as resources allow).
        grace_epochs: ASHA grace period (epochs before a trial may be stopped).
        reduction_factor: ASHA reduction factor (keeps the top 1/rf at each rung).
        max_memory_mb: configurations whose estimated training memory exceeds this are infeasible.
        max_train_tflop: configurations whose estimated training compute (TFLOP over all folds
            and epochs) exceeds this are infeasible; 0 (default) = no limit. For CPU runs of a
            space with large direct convolutions (``table2``), e.g. 20 (~10 min on 2 cores).
        checkpoint_every_s: shortest interval between per-epoch checkpoints of a trial (a trial
            cut off by a crash resumes from its last one; shorter trials simply start again).
        dataset: Zarr dataset path (relative to the working directory); null = the bundled one.
    """

    metric: str = "auto"
    mode: str = "auto"
    trials: int = 8
    sampler: str = "tpe"
    seed: int = 0
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 0
    grace_epochs: int = 1
    reduction_factor: int = 2
    max_memory_mb: float = 4000.0
    max_train_tflop: float = 0.0
    checkpoint_every_s: float = 10.0
    dataset: str | None = None


@dataclass(frozen=True)
class Param:
    """One sampled field: ``type`` in PARAM_TYPES, bounds or choices, ``per_layer`` flag."""

    name: str
    type: str
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    per_layer: bool = False


@dataclass(frozen=True)
class Space:
    """A parsed space file: settings, fixed fields, sampled parameters, enqueued points."""

    source: str
    settings: SearchSettings
    fixed: dict[str, Any]
    params: tuple[Param, ...]
    enqueue: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The space as plain YAML-able data (what ``load_space`` reads back)."""
        params = {}
        for p in self.params:
            d = {k: v for k, v in asdict(p).items() if k != "name" and v not in (None, False, ())}
            if "choices" in d:
                d["choices"] = list(d["choices"])
            params[p.name] = d
        return {
            "settings": asdict(self.settings),
            "fixed": dict(self.fixed),
            "params": params,
            "enqueue": [dict(e) for e in self.enqueue],
        }


def bundled_spaces() -> list[str]:
    """The names of the bundled spaces (``search/spaces/<name>.yaml``), sorted."""
    return sorted(p.stem for p in SPACES_DIR.glob("*.yaml"))


def resolve_space_path(name_or_path: str | Path | None) -> Path:
    """A file path, or the name of a bundled space (``bundled_spaces``)."""
    if name_or_path is None:
        name_or_path = "default"
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = SPACES_DIR / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    known = ", ".join(bundled_spaces())
    raise SpaceError(f"{name_or_path}: no such file and no bundled space of that name ({known})")


def load_space(name_or_path: str | Path | None = None,
               overrides: dict[str, Any] | None = None) -> Space:
    """Read and check a space file (see the module docstring for its format).

    ``overrides`` (``magvox search start --set``) are fixed for every trial: they replace the
    file's fixed value or sampled parameter of the same name; a key ``settings.<field>``
    (``--set settings.gpus_per_trial=0``) replaces that field of the file's ``settings``.
    """
    path = resolve_space_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpaceError(f"{path}: not valid YAML{where}: "
                         f"{getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(raw, dict):
        raise SpaceError(f"{path}: a space is a mapping with settings, fixed and params")
    overrides = dict(overrides or {})
    settings = {k.removeprefix(SETTINGS_PREFIX): overrides.pop(k) for k in list(overrides)
                if k.startswith(SETTINGS_PREFIX)}
    if settings:
        raw = {**raw, "settings": {**(raw.get("settings") or {}), **settings}}
    return space_from_dict(resolve_targets(raw, overrides, str(path)), source=str(path))


SETTINGS_PREFIX = "settings."  # --set settings.gpus_per_trial=0: a search setting, not a field


def resolve_targets(raw: dict[str, Any], overrides: dict[str, Any], source: str
                    ) -> dict[str, Any]:
    """Merge the ``targets`` entry of the search's target and the ``--set`` overrides into the
    space: its fields into ``fixed`` (dropped from ``params`` and the enqueued points), its
    ``params`` over the sampled parameters of the same name (a range of its own, e.g. a larger
    learning rate for regression) and its ``enqueue`` values into every enqueued point."""
    raw = dict(raw)
    per_target = raw.pop("targets", None) or {}
    if not isinstance(per_target, dict):
        raise SpaceError(f"{source}: targets: expected a mapping target -> fields")
    fixed = dict(raw.get("fixed") or {})
    target = overrides.get("target", fixed.get("target"))
    extra = (per_target.get(target) if isinstance(target, str) else None) or {}
    if not isinstance(extra, dict):
        raise SpaceError(f"{source}: targets.{target}: expected a mapping of fields")
    extra = dict(extra)
    params, points = extra.pop("params", None) or {}, extra.pop("enqueue", None) or {}
    for key, value in (("params", params), ("enqueue", points)):
        if not isinstance(value, dict):
            raise SpaceError(f"{source}: targets.{target}.{key}: expected a mapping")
    if not extra and not overrides and not params and not points:
        return raw
    taken = set(extra) | set(overrides)
    raw["fixed"] = {**fixed, **extra, **overrides}
    raw["params"] = {k: v for k, v in {**(raw.get("params") or {}), **params}.items()
                     if k not in taken}
    raw["enqueue"] = [{k: v for k, v in {**point, **points}.items() if k not in taken}
                      for point in raw.get("enqueue") or ()]
    return raw


def space_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Space:
    """Build a Space from already-parsed YAML data; errors name ``source`` and the key."""
    unknown = set(raw) - {"settings", "fixed", "params", "enqueue", "description"}
    if unknown:
        raise SpaceError(f"{source}: unknown top-level keys {sorted(unknown)}")
    given = dict(raw.get("settings") or {})
    known = {f.name for f in fields(SearchSettings)}
    if set(given) - known:
        raise SpaceError(f"{source}: settings: unknown {sorted(set(given) - known)} (known: "
                         f"{', '.join(sorted(known))})")
    settings = SearchSettings(**given)
    fixed = dict(raw.get("fixed") or {})
    settings = _resolve_metric(source, settings, fixed)
    params = tuple(_parse_param(source, n, d) for n, d in (raw.get("params") or {}).items())
    if any(p.per_layer for p in params) and "depth" not in {p.name for p in params}:
        if "depth" not in (raw.get("fixed") or {}):
            raise SpaceError(f"{source}: per_layer parameters need a 'depth' param or fixed value")
    enqueue = tuple(dict(e) for e in raw.get("enqueue") or ())
    return Space(source, settings, fixed, params, enqueue)


def _resolve_metric(source: str, settings: SearchSettings, fixed: dict[str, Any]
                    ) -> SearchSettings:
    """Settle ``auto`` metric and mode from the target's task; refuse a metric the task lacks."""
    from dataclasses import replace

    from models.metrics import HEADLINE_METRIC, LOWER_IS_BETTER, TASK_METRICS
    from models.presets import get_preset
    from models.trial import TARGETS

    try:
        target = fixed.get("target") or get_preset(fixed.get("preset", "seed-base")).training.get(
            "target", "ground_state")
    except KeyError as exc:
        raise SpaceError(f"{source}: fixed.preset: {exc.args[0]}") from exc
    if not isinstance(target, str) or target not in TARGETS:
        raise SpaceError(f"{source}: fixed.target {target!r} is not one of {', '.join(TARGETS)}")
    task = TARGETS[target]
    metric = settings.metric
    if metric == "auto":
        metric = f"val_{HEADLINE_METRIC[task][0]}"
    name = metric.removeprefix("val_").removeprefix("train_")
    if name not in TASK_METRICS[task] or metric == name:
        known = ", ".join(f"val_{m}" for m in TASK_METRICS[task])
        raise SpaceError(f"{source}: settings.metric {metric!r} is not a metric of target "
                         f"{target} ({known})")
    mode = settings.mode
    if mode == "auto":
        mode = "min" if name in LOWER_IS_BETTER else "max"
    if mode not in ("max", "min"):
        raise SpaceError(f"{source}: settings.mode must be max, min or auto, got {mode!r}")
    return replace(settings, metric=metric, mode=mode)


def _parse_param(source: str, name: str, spec: Any) -> Param:
    where = f"{source}: params.{name}"
    if not isinstance(spec, dict) or spec.get("type") not in PARAM_TYPES:
        raise SpaceError(f"{where}: needs 'type' in {PARAM_TYPES}, got {spec!r}")
    try:
        param = Param(name=name, **spec)
    except TypeError as exc:
        raise SpaceError(f"{where}: {exc}") from exc
    if param.type == "categorical":
        if not param.choices:
            raise SpaceError(f"{where}: categorical needs a non-empty 'choices' list")
        return Param(**{**asdict(param), "choices": tuple(param.choices)})
    if param.low is None or param.high is None or param.low > param.high:
        raise SpaceError(f"{where}: needs low <= high, got low={param.low} high={param.high}")
    if param.log and param.low <= 0:
        raise SpaceError(f"{where}: log scale needs low > 0")
    return param
