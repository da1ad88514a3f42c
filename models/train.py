"""One trial: train and evaluate one TrialConfig on the shared dataset (no Ray, no MLflow here).

    result = run_trial(TrialConfig.from_dict({"preset": "seed-base"}), "data/cgt_te.zarr",
                       on_epoch=report, checkpoint_dir="runs/t0")

``on_epoch(record) -> bool | None`` is called after every epoch, once its checkpoint is written,
with the epoch's flat metrics (``epoch`` (1-based), ``seconds``, ``train_<metric>``,
``val_<metric>``, all floats); returning True stops the trial (pruning). The search layer plugs
Ray Tune reporting and MLflow logging in there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from models.baselines import baselines
from models.checkpoint import load_checkpoint, save_checkpoint
from models.data import Samples, load_samples, to_channels
from models.device import resolve_device
from models.metrics import metrics
from models.net import MagNet
from models.result import TrialResult
from models.split import split_indices
from models.trial import TrialConfig, validate

OnEpoch = Callable[[dict[str, float]], bool | None]


class SpectrumCache:
    """First-conv input spectra per sample, computed once per trial: inputs never change."""

    def __init__(self, model: MagNet, x: torch.Tensor) -> None:
        self.model, self.x = model, x
        self.enabled = model.input_spectrum(x[:1]) is not None
        self.store: dict[int, torch.Tensor] = {}

    def batch(self, idx: torch.Tensor) -> list[torch.Tensor] | None:
        """Spectra (C, *spec) of samples ``idx``, computing the missing ones; None if no FFT."""
        if not self.enabled:
            return None
        with torch.no_grad():
            for i in (int(i) for i in idx if int(i) not in self.store):  # one at a time: no copy
                self.store[i] = self.model.input_spectrum(self.x[i : i + 1])[0]  # (C, *spec)
        return [self.store[int(i)] for i in idx]


def make_optimizer(config: TrialConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """SGD (lr, momentum, weight_decay) or Adam (lr, weight_decay)."""
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay)


def _loss_and_score(task: str, out: torch.Tensor, y: torch.Tensor):
    """Loss of outputs (B, 2) or (B, 1) against y, and the score: P(class 1) or the prediction."""
    if task == "class":
        return F.cross_entropy(out, y), out.softmax(dim=1)[:, 1]
    pred = out[:, 0]
    return F.mse_loss(pred, y), pred


def _run_epoch(model, task, x, y, cache, idx_batches, optimizer=None) -> tuple[float, np.ndarray]:
    """One pass over ``idx_batches``; trains when an optimizer is given. -> (mean loss, scores)."""
    total, scores = 0.0, []
    for idx in idx_batches:
        with torch.set_grad_enabled(optimizer is not None):
            out = model(x[idx], x_hat=cache.batch(idx))  # (B, num_outputs)
            loss, score = _loss_and_score(task, out, y[idx])
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        total += float(loss.detach()) * len(idx)
        scores.append(score.detach())
    n = sum(len(i) for i in idx_batches)
    return total / max(n, 1), torch.cat(scores).double().cpu().numpy()


def _batches(idx: np.ndarray, size: int, seed: int | None) -> list[torch.Tensor]:
    """Index batches; shuffled by a generator seeded from (seed, epoch) when seed is given."""
    t = torch.as_tensor(idx)
    if seed is not None:
        t = t[torch.randperm(len(t), generator=torch.Generator().manual_seed(seed))]
    return list(t.split(size))


class _Targets:
    """Labels as tensors; regression targets standardised on the training split."""

    def __init__(self, samples: Samples, task: str, train: np.ndarray) -> None:
        self.raw = samples.y
        self.mean, self.std = 0.0, 1.0
        if task == "class":
            self.t = torch.as_tensor(samples.y, dtype=torch.long)
        else:
            self.mean = float(samples.y[train].mean())
            self.std = float(samples.y[train].std()) or 1.0
            self.t = torch.as_tensor((samples.y - self.mean) / self.std, dtype=torch.float32)

    def unscale(self, task: str, score: np.ndarray) -> np.ndarray:
        """Scores back in target units (regression) or unchanged (P(class 1))."""
        return score if task == "class" else score * self.std + self.mean


def _metrics(task: str, targets: _Targets, idx: np.ndarray, loss: float, score: np.ndarray):
    """Metrics in target units: regression loss is the MSE in uB^2 or eV^2 (as the baselines')."""
    value = targets.unscale(task, score)
    if task == "reg":
        loss = float(np.mean((value - targets.raw[idx]) ** 2))
    return metrics(task, targets.raw[idx], value, loss)


def _epoch(config, model, optimizer, data, epoch: int) -> dict[str, float]:
    """Train one epoch, evaluate on validation; -> flat metrics (train_*, val_*, seconds)."""
    x, targets, cache, train, val = data
    start = time.perf_counter()
    task, seed = config.task, config.seed * 100_003 + epoch
    model.train()
    batches = _batches(train, config.batch_size, seed)
    loss, score = _run_epoch(model, task, x, targets.t, cache, batches, optimizer)
    order = torch.cat(batches).numpy()
    record = {f"train_{k}": v for k, v in _metrics(task, targets, order, loss, score).items()}
    model.eval()
    batches = _batches(val, config.batch_size, None)
    loss, score = _run_epoch(model, task, x, targets.t, cache, batches)
    record.update({f"val_{k}": v for k, v in _metrics(task, targets, val, loss, score).items()})
    record["epoch"], record["seconds"] = float(epoch + 1), time.perf_counter() - start
    return record


def _resume(config, model, optimizer, checkpoint_dir) -> tuple[int, list[dict[str, float]]]:
    """Load a checkpoint of the same config, if any. -> (epochs done, history so far)."""
    if checkpoint_dir is None or (state := load_checkpoint(checkpoint_dir)) is None:
        return 0, []
    if state["config"] != config.to_dict():
        raise ValueError(f"{checkpoint_dir} holds a checkpoint of another configuration")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]), list(state["history"])


def _prepare(config: TrialConfig | dict[str, Any], dataset: Any):
    """Config, samples, split and input tensors of a trial (validated before any training)."""
    if isinstance(config, dict):
        config = TrialConfig.from_dict(config)
    samples = load_samples(dataset, config.target, config.configuration, config.moment_threshold_uB)
    validate(config, samples.grid)
    train, val = split_indices(samples.composites, samples.y, classification=config.task == "class",
                               seed=config.seed, val_fraction=config.val_fraction,
                               folds=config.folds, fold=config.fold)
    x = to_channels(samples.spin, config.input_channels)  # (S, C, Nx, Ny, Nz)
    samples.spin = np.empty((0, *samples.grid), np.float32)  # x holds the data now: free it
    return config, samples, train, val, x


def run_trial(
    config: TrialConfig | dict[str, Any],
    dataset: Any,
    *,
    on_epoch: OnEpoch | None = None,
    checkpoint_dir: str | Path | None = None,
    device: str | torch.device | None = "auto",
) -> TrialResult:
    """Train and evaluate one configuration; resume from ``checkpoint_dir`` if it holds one.

    Args:
        config: a TrialConfig or its flat dict (``TrialConfig.from_dict``).
        dataset: path of the shared Zarr dataset, or an object with .index/.labels/.spin.
        on_epoch: called as on_epoch(record) after each epoch with its metrics (incl.
            ``epoch``, 1-based); return True to stop early.
        checkpoint_dir: folder for an atomic checkpoint after every epoch (None: none written).
        device: ``auto`` (the first visible CUDA GPU, else the CPU), ``cpu``, ``cuda[:N]``.
            The inputs, their cached spectra and the model live there; results come back on
            the CPU. Checkpoints load on any device.
    Returns:
        TrialResult with per-epoch history, final validation metrics, baselines on the same
        split and the first-layer filters. A diverging loss (NaN/inf) stops the trial and sets
        ``diverged``; it does not raise.
    """
    where = resolve_device(device)
    config, samples, train, val, x = _prepare(config, dataset)
    x = x.to(where)
    torch.manual_seed(config.seed)
    model = MagNet(config.model_config(), samples.grid).to(where)
    optimizer = make_optimizer(config, model)
    done, history = _resume(config, model, optimizer, checkpoint_dir)
    targets = _Targets(samples, config.task, train)
    targets.t = targets.t.to(where)
    data = (x, targets, SpectrumCache(model, x), train, val)
    start, diverged, stopped = time.perf_counter(), False, False
    for epoch in range(done, config.epochs):
        record = _epoch(config, model, optimizer, data, epoch)
        history.append(record)
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "config": config.to_dict(), "epoch": epoch + 1, "history": history})
        diverged = not np.isfinite(record["train_loss"])
        if on_epoch is not None and on_epoch(dict(record)):
            stopped = True
        if diverged or stopped:
            break
    return TrialResult(
        config=config, history=history,
        state_dict={k: v.detach().cpu() for k, v in model.state_dict().items()},
        baselines=baselines(config.task, samples.composites, samples.y, train, val),
        filters=model.filters(0).cpu().numpy(),
        train_composites=[samples.composites[i] for i in train],
        val_composites=[samples.composites[i] for i in val], dropped=samples.dropped,
        resumed_from=done, diverged=diverged, stopped_early=stopped,
        seconds=time.perf_counter() - start,
    )
