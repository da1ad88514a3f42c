"""TrialConfig: every hyperparameter of one trial (architecture + training), flat for a search.

``TrialConfig.from_dict({"preset": "seed-base", "kernel_sizes": [20], "lr": 1.0})`` starts from the
preset and overrides; ``to_dict()`` gives the flat dict back (JSON/YAML-safe). ``validate`` checks a
configuration against a dataset grid before any compute and raises ``ConfigError`` naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

from data_prep import CLASS_TARGETS, TARGET_COLUMNS
from data_prep.dataset.labels import MOMENT_THRESHOLD_UB
from models.augment import AUGMENTS
from models.config import ConfigError, ModelConfig, check_types, validate_model
from models.data import INPUT_UNITS
from models.normalize import INPUT_NORMS
from models.presets import get_preset

TARGETS = {t: "class" if t in CLASS_TARGETS else "reg" for t in TARGET_COLUMNS}  # -> task
OPTIMIZERS = ("sgd", "adam")
INPUT_CHANNELS = {"split": 2, "signed": 1}  # (max(m,0), max(-m,0)) or m itself
CLASS_WEIGHTS = ("none", "balanced")
LR_SCHEDULES = ("constant", "cosine")
CLASSIFY_BY = ("softmax", "moment")
MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig))


@dataclass(frozen=True)
class TrialConfig:
    """One trial. Model fields live in ``model``; ``in_channels``/``num_outputs`` are derived.

    Attributes:
        preset: the registered preset the model and defaults came from (models.presets).
        model: the architecture, incl. tiling, padding and conv backend.
        target: ground_state (1 = FM), moment_class (FM moment > moment_threshold_uB), moment
            (uB, regression), exchange_energy (E_AFM-Neel - E_FM, eV per cell, regression) or
            J1, J2, J3 (Heisenberg couplings of the first three A-A shells, meV, J > 0
            ferromagnetic, regression; data_prep.analysis.exchange).
        moment_threshold_uB: threshold of moment_class, uB per cell. Default 4.
        input_channels: ``split`` -> (max(m,0), max(-m,0)) as the original; ``signed`` -> m.
        input_units: ``voxel`` (default) -> uB per grid voxel, m V_cell / N_grid, whose sum is the
            cell's moment; ``density`` -> uB/A^3 as stored (the original; a network cannot then
            tell cells of different volume apart: moment regression stalls near 0.2 uB MAE).
        input_norm: ``p99`` (default) -> each channel divided by the 99th percentile of |x| over
            the training composites (models.normalize; stored with the weights); ``none`` ->
            raw inputs (the original).
        classify_by: ``softmax`` (default) -> a 2-class output trained by cross-entropy;
            ``moment`` (moment_class only) -> one output trained to regress the FM moment (uB, MSE
            on the standardised moment) and the class read off it by the definition of the label,
            moment > moment_threshold_uB (P(class 1) = sigmoid((m - threshold) / 0.05 uB), used
            for ROC AUC only). The label is a threshold on a quantity the density integrates to:
            a network that learns the quantity gets every composite not within its error of the
            threshold, where cross-entropy sees only which side each training composite is on.
        class_weight: ``balanced`` (default) -> cross-entropy weighted by inverse training class
            frequency (ground_state is 46 FM / 9 AFM on the Te set); ``none`` (the original).
        augment: ``none`` (default), ``translate``, ``rotate`` or ``symmetry``: exact symmetry
            operations of the crystal applied to training inputs (models.augment). Turns off
            the cached first-layer spectra, so FFT trials cost more per epoch.
        configuration: which DFT configuration's density is the input (FM by default); several
            joined by ``+`` (``FM+AFM-Neel``) give each composite's densities of all of them as
            input channels, in that order (the channels of ``input_channels`` per configuration).
        optimizer, lr, momentum, weight_decay: ``sgd`` (momentum used) or ``adam``. The original
            used SGD with lr 100 on its unnormalised loss; start near 0.01-1 for anything new.
        lr_schedule: ``constant`` (default) or ``cosine``: lr * (1 + cos(pi e / epochs)) / 2 at
            epoch e, decaying to ~0 for the last epochs (fine convergence: moment regression to
            a few hundredths of a uB). Set from the epoch alone, so a resumed trial is identical.
        batch_size, epochs: samples per step; passes over the training split.
        seed: seeds the split, the initial weights and the batch order (CPU runs are bitwise
            repeatable for a given seed).
        val_fraction: with folds = 0, the share of development composites validated on (0.3 =
            the original 70/30 split).
        folds: >= 2 (default 4) -> k-fold cross-validation by composite over the development
            composites: k models trained side by side, each metric the mean over folds (with its
            std); 0 -> one split by ``val_fraction``. The dataset's held-out test composites
            (data_prep.dataset.holdout) are never trained or validated on here.
        repeats: >= 1 (default 1) -> the cross-validation run this many times, with seeds seed,
            seed + 1, ...: each repeat reshuffles the folds and draws new initial weights, and
            every metric is the mean over folds x repeats, its ``_std`` the spread. The same
            configuration trained twice moved by 0.1 in balanced accuracy: 3 repeats let a
            search rank by a mean instead of one draw (at 3x the cost).
        aux_targets: ``none`` (default) or regression targets joined by ``+``
            (``moment+exchange_energy``) the network also regresses from extra outputs of its
            head (multi-task training): each standardised on the training composites, its MSE
            over the composites that have the label added to the loss with ``aux_weight``.
            Scores and predictions are of ``target`` alone.
        aux_weight: weight of each auxiliary target's loss (default 0.3).
    """

    preset: str = "seed-base"
    model: ModelConfig = field(default_factory=ModelConfig)
    target: str = "ground_state"
    moment_threshold_uB: float = MOMENT_THRESHOLD_UB
    input_channels: str = "split"
    input_units: str = "voxel"
    input_norm: str = "p99"
    class_weight: str = "balanced"
    classify_by: str = "softmax"
    augment: str = "none"
    configuration: str = "FM"
    optimizer: str = "sgd"
    lr: float = 100.0
    momentum: float = 0.0
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    batch_size: int = 20
    epochs: int = 5
    seed: int = 0
    val_fraction: float = 0.3
    folds: int = 4
    repeats: int = 1
    aux_targets: str = "none"
    aux_weight: float = 0.3

    @property
    def task(self) -> str:
        """``class`` (2-class softmax) or ``reg`` (one output, MSE) for the target."""
        return TARGETS[self.target]

    @property
    def configurations(self) -> tuple[str, ...]:
        """The input's DFT configurations, in channel order (``FM+AFM-Neel`` -> two)."""
        return tuple(self.configuration.split("+"))

    @property
    def auxiliaries(self) -> tuple[str, ...]:
        """The auxiliary targets, in output order (``moment+exchange_energy`` -> two)."""
        return () if self.aux_targets in ("none", "") else tuple(self.aux_targets.split("+"))

    @property
    def regresses(self) -> bool:
        """Whether the network has one output trained by MSE (regression targets, and
        moment_class with ``classify_by=moment``)."""
        return self.task == "reg" or self.classify_by == "moment"

    def model_config(self) -> ModelConfig:
        """The model with in_channels and num_outputs set from input_channels and target."""
        return self.model.replace(
            in_channels=INPUT_CHANNELS.get(self.input_channels, self.model.in_channels)
            * len(self.configurations),
            num_outputs=2 if TARGETS.get(self.target) == "class" and self.classify_by != "moment"
            else 1,
            aux_outputs=len(self.auxiliaries),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialConfig:
        """Preset ``d["preset"]`` (default seed-base) with every other key overriding it.

        Keys may be flat model fields (``kernel_sizes``) or a nested ``model`` dict. An unknown
        key, or a value not of its field's type (``lr="abc"``), raises ConfigError naming it.
        """
        d = dict(d)
        name = d.pop("preset", "seed-base")
        check_types(cls, {"preset": name})
        try:
            preset = get_preset(name)
        except KeyError as exc:
            raise ConfigError("preset", exc.args[0]) from exc
        model_keys = d.pop("model", None) or {}
        if not isinstance(model_keys, dict):
            raise ConfigError("model", f"expected a mapping of model fields, got {model_keys!r}")
        model_keys = {**model_keys, **{k: d.pop(k) for k in list(d) if k in MODEL_FIELDS}}
        trial_names = {f.name for f in fields(cls)}
        for key in {**model_keys, **d}:
            if key not in trial_names and key not in MODEL_FIELDS:
                raise ConfigError(key, "unknown hyperparameter")
        check_types(ModelConfig, model_keys)
        check_types(cls, d)
        model = preset.model.replace(**model_keys)
        return cls(preset=preset.name, model=model, **{**preset.training, **d})

    def to_dict(self) -> dict[str, Any]:
        """Flat dict (model fields inline, tuples as lists) that ``from_dict`` reads back."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        for name in MODEL_FIELDS:
            value = getattr(self.model, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def replace(self, **changes: Any) -> TrialConfig:
        """A copy with trial or model fields changed."""
        model = {k: changes.pop(k) for k in list(changes) if k in MODEL_FIELDS}
        return dataclasses.replace(self, model=self.model.replace(**model), **changes)


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(name, message)


def validate(config: TrialConfig, input_shape: tuple[int, ...]) -> None:
    """Raise ConfigError naming the field if ``config`` cannot run on this data; else None.

    Args:
        config: the trial.
        input_shape: the dataset's training grid (Nx, Ny, Nz), or (C, Nx, Ny, Nz) (C ignored).
    """
    c = config
    _check("target", c.target in TARGETS, f"{c.target!r} is not one of {', '.join(TARGETS)}")
    _check("optimizer", c.optimizer in OPTIMIZERS, f"{c.optimizer!r} is not sgd or adam")
    _check("input_channels", c.input_channels in INPUT_CHANNELS,
           f"{c.input_channels!r} is not split or signed")
    names = c.configurations
    _check("configuration", all(names) and len(set(names)) == len(names),
           f"{c.configuration!r}: configuration names joined by '+', each once (e.g. FM+AFM-Neel)")
    for name, choices in (("input_units", INPUT_UNITS), ("input_norm", INPUT_NORMS),
                          ("lr_schedule", LR_SCHEDULES),
                          ("class_weight", CLASS_WEIGHTS), ("augment", AUGMENTS),
                          ("classify_by", CLASSIFY_BY)):
        value = getattr(c, name)
        _check(name, value in choices, f"{value!r} is not one of {', '.join(choices)}")
    _check("classify_by", c.classify_by == "softmax" or c.target == "moment_class",
           f"{c.classify_by!r} applies to target moment_class only (target is {c.target})")
    aux = c.auxiliaries
    regression = [t for t, task in TARGETS.items() if task == "reg"]
    _check("aux_targets", all(a in regression for a in aux) and len(set(aux)) == len(aux),
           f"{c.aux_targets!r}: regression targets joined by '+', each once "
           f"({', '.join(regression)})")
    _check("aux_targets", c.target not in aux, f"{c.target} is the main target already")
    _check("aux_weight", c.aux_weight > 0, f"must be positive, got {c.aux_weight}")
    _check("lr", c.lr > 0, f"must be positive, got {c.lr}")
    _check("momentum", 0 <= c.momentum < 1, f"must be in [0, 1), got {c.momentum}")
    _check("batch_size", c.batch_size >= 1, f"must be >= 1, got {c.batch_size}")
    _check("epochs", c.epochs >= 1, f"must be >= 1, got {c.epochs}")
    _check("repeats", c.repeats >= 1, f"must be >= 1 (seeds per configuration), got {c.repeats}")
    _check("val_fraction", 0 < c.val_fraction < 1, f"must be in (0, 1), got {c.val_fraction}")
    _check("folds", c.folds == 0 or c.folds >= 2, f"0 (one split) or >= 2, got {c.folds}")
    grid = tuple(input_shape[-3:])
    validate_model(c.model_config(), grid)  # type: ignore[arg-type]
