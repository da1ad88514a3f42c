"""One trial: train and evaluate one TrialConfig on the shared dataset (no Ray, no MLflow here).

    result = run_trial(TrialConfig.from_dict({"preset": "periodic-fast"}), "data/cgt_te.zarr",
                       on_epoch=report, checkpoint_dir="runs/t0")

The dataset's held-out test composites are set aside first; the rest (the development composites)
are split k-fold by composite, and one model per fold is trained side by side, epoch by epoch.
``on_epoch(record) -> bool | None`` is called after every epoch, once its checkpoint is written,
with the epoch's flat metrics (``epoch`` (1-based), ``seconds``, ``train_<metric>``,
``val_<metric>`` (the mean over folds) and ``val_<metric>_std`` (their spread), all floats);
returning True stops the trial (pruning). The search layer plugs Ray Tune reporting and MLflow
logging in there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.augment import Augmenter
from models.baselines import baselines
from models.checkpoint import load_checkpoint, save_checkpoint
from models.composition import composition_input
from models.data import (
    Samples,
    label_values,
    load_samples,
    open_source,
    per_voxel,
    to_channels,
)
from models.device import resolve_device
from models.member import Member, evaluate, new_member, train_epoch
from models.result import TrialResult
from models.split import check_class_counts, development_splits
from models.trial import TrialConfig, validate

OnEpoch = Callable[[dict[str, float]], bool | None]


def mean_over_folds(records: list[dict[str, float]]) -> dict[str, float]:
    """The fold records' mean per key, and ``val_<metric>_std`` where there are several folds."""
    out: dict[str, float] = {}
    for key in records[0]:
        values = np.array([r[key] for r in records], dtype=float)
        finite = values[np.isfinite(values)]
        out[key] = float(finite.mean()) if len(finite) else float("nan")
        if len(records) > 1 and key.startswith("val_"):
            out[f"{key}_std"] = float(finite.std()) if len(finite) else float("nan")
    return out


def _epoch(config: TrialConfig, members: list[Member], x: torch.Tensor, augment: Augmenter,
           epoch: int) -> dict[str, float]:
    """Train every member one epoch and validate it; -> metrics averaged over the folds."""
    start = time.perf_counter()
    records = []
    for m in members:
        record = train_epoch(config, m, x, augment, epoch)
        record.update({f"val_{k}": v for k, v in evaluate(config, m, x, m.val).items()})
        records.append(record)
    out = mean_over_folds(records)
    out["epoch"], out["seconds"] = float(epoch + 1), time.perf_counter() - start
    return out


def _resume(config, members, checkpoint_dir) -> tuple[int, list[dict[str, float]]]:
    """Load a checkpoint of the same config, if any. -> (epochs done, history so far)."""
    if checkpoint_dir is None or (state := load_checkpoint(checkpoint_dir)) is None:
        return 0, []
    if state["config"] != config.to_dict():
        raise ValueError(f"{checkpoint_dir} holds a checkpoint of another configuration")
    for m, model, opt in zip(members, state["models"], state["optimizers"], strict=True):
        m.model.load_state_dict(model)
        m.optimizer.load_state_dict(opt)
    return int(state["epoch"]), list(state["history"])


def prepare(config: TrialConfig | dict[str, Any], dataset: Any, device: torch.device,
            require_label: bool = True):
    """Config, samples and input tensor (S, C, Nx, Ny, Nz) on ``device``, validated first.
    ``require_label=False`` (prediction) keeps the composites without a label too."""
    if isinstance(config, dict):
        config = TrialConfig.from_dict(config)
    ds = open_source(dataset)
    samples = load_samples(ds, config.target, config.configuration, config.moment_threshold_uB,
                           require_label=require_label)
    if config.auxiliaries:
        samples.aux = np.stack([label_values(ds, a, samples.composites)
                                for a in config.auxiliaries], axis=1)
    validate(config, samples.grid)
    if config.input_units == "voxel":
        per_voxel(samples.spin, samples.volume_A3)
    x = to_channels(samples.spin, config.input_channels)  # (S, C, Nx, Ny, Nz)
    samples.spin = np.empty((0, *samples.grid), np.float32)  # x holds the data now: free it
    return config, samples, x.to(device)


def make_augmenter(config: TrialConfig, samples: Samples) -> Augmenter:
    """The trial's augmentation over the development cells (ConfigError if the cells lack it)."""
    from models.augment import AugmentError
    from models.config import ConfigError

    try:
        return Augmenter(config.augment, samples.lattice_A[~samples.test], samples.grid)
    except AugmentError as exc:
        raise ConfigError("augment", str(exc).removeprefix(f"augment={config.augment}: ")) from exc


def _fold_baselines(config: TrialConfig, samples: Samples, members: list[Member]):
    """The baselines on every fold's split, averaged over the folds."""
    per_fold = [baselines(config.task, samples.composites, samples.y, m.train, m.val,
                          samples.integrals_uB) for m in members]
    return {name: mean_over_folds([f[name] for f in per_fold]) for name in per_fold[0]}


def run_trial(
    config: TrialConfig | dict[str, Any],
    dataset: Any,
    *,
    on_epoch: OnEpoch | None = None,
    checkpoint_dir: str | Path | None = None,
    device: str | torch.device | None = "auto",
) -> TrialResult:
    """Train and evaluate one configuration by cross-validation; resume from ``checkpoint_dir``.

    Args:
        config: a TrialConfig or its flat dict (``TrialConfig.from_dict``).
        dataset: path of the shared Zarr dataset, or an object with .index/.labels/.spin.
        on_epoch: called as on_epoch(record) after each epoch with its metrics (incl.
            ``epoch``, 1-based); return True to stop early.
        checkpoint_dir: folder for an atomic checkpoint after every epoch (None: none written).
        device: ``auto`` (the first visible CUDA GPU, else the CPU), ``cpu``, ``cuda[:N]``.
            The inputs, their cached spectra and the models live there; results come back on
            the CPU. Checkpoints load on any device.
    Returns:
        TrialResult with per-epoch history (metrics averaged over the folds), baselines on the
        same folds and the first fold's filters and weights. The held-out test composites are
        never used. A diverging loss (NaN/inf) stops the trial and sets ``diverged``.
    """
    where = resolve_device(device)
    config, samples, x = prepare(config, dataset, where)
    if config.task == "class":
        check_class_counts(samples.composites, samples.y, samples.test, folds=config.folds,
                           target=config.target)
    splits = [split for r in range(config.repeats)  # each repeat: its own shuffle of folds
              for split in development_splits(
                  samples.composites, samples.y, samples.test,
                  classification=config.task == "class", seed=config.seed + r,
                  folds=config.folds, val_fraction=config.val_fraction)]
    augment = make_augmenter(config, samples)
    comp = composition_input(config.model.head, samples.composites, where)
    members = [new_member(config, x, samples.y, samples.grid, splits[0], 0, value=samples.value,
                          composition=comp, aux=samples.aux)]
    members += [new_member(config, x, samples.y, samples.grid, s, k, cache=members[0].cache,
                           value=samples.value, composition=comp, aux=samples.aux)
                for k, s in enumerate(splits[1:], start=1)]
    done, history = _resume(config, members, checkpoint_dir)
    start, diverged, stopped = time.perf_counter(), False, False
    for epoch in range(done, config.epochs):
        record = _epoch(config, members, x, augment, epoch)
        history.append(record)
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, {
                "models": [m.model.state_dict() for m in members],
                "optimizers": [m.optimizer.state_dict() for m in members],
                "config": config.to_dict(), "epoch": epoch + 1, "history": history})
        diverged = not np.isfinite(record["train_loss"])
        if on_epoch is not None and on_epoch(dict(record)):
            stopped = True
        if diverged or stopped:
            break
    first = members[0]
    names = samples.composites
    return TrialResult(
        config=config, history=history,
        state_dict={k: v.detach().cpu() for k, v in first.model.state_dict().items()},
        baselines=_fold_baselines(config, samples, members),
        filters=first.model.filters(0).cpu().numpy(),
        train_composites=sorted({names[i] for m in members for i in m.train}),
        val_composites=sorted({names[i] for m in members for i in m.val}),
        test_composites=sorted(names[i] for i in np.flatnonzero(samples.test)),
        folds=len(members) // config.repeats, dropped=samples.dropped,
        resumed_from=done, diverged=diverged, stopped_early=stopped,
        seconds=time.perf_counter() - start, grid=samples.grid,
        target_scale=(first.targets.mean, first.targets.std),
    )
