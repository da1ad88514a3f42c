"""One model of a trial and its epochs: the training loop of a fold, read top to bottom.

A ``Member`` is a network with its optimizer, its training and validation samples, its input
scale (fitted on its own training composites) and its class weights. ``run_trial`` trains one
member per cross-validation fold side by side; ``models.evaluate`` trains one on every development
composite and scores the held-out test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.augment import Augmenter
from models.metrics import metrics
from models.net import MagNet
from models.normalize import fit_input_scale
from models.trial import TrialConfig


class SpectrumCache:
    """What the first conv takes in place of each raw input (its spectrum, or its circularly
    padded copy for a direct conv: ``Conv3d.prepare_input``), computed once per trial and shared
    by the folds' models (each applies its own input scale to its kernel): inputs never change
    (off with augmentation)."""

    def __init__(self, model: MagNet, x: torch.Tensor, enabled: bool = True) -> None:
        self.model, self.x = model, x
        self.enabled = enabled and model.input_spectrum(x[:1]) is not None
        self.store: dict[int, torch.Tensor] = {}
        self._buffers: dict[int, torch.Tensor] = {}  # batch size -> reused (B, C, *padded)

    def batch(self, idx: torch.Tensor) -> list[torch.Tensor] | torch.Tensor | None:
        """Prepared inputs of samples ``idx``, computing the missing ones; None if off.

        Spectra come as a list of (C, *spec) (the FFT conv takes one sample at a time: no copy).
        Padded inputs for a direct conv come stacked (B, C, *padded) in a buffer reused by the
        next call of the same batch size (a fresh 30 MB tensor per batch cost 3x the copy in page
        faults): valid until then, which covers a forward and its backward.
        """
        if not self.enabled:
            return None
        with torch.no_grad():
            for i in (int(i) for i in idx if int(i) not in self.store):  # one at a time: no copy
                self.store[i] = self.model.input_spectrum(self.x[i : i + 1])[0]  # (C, *spec)
        items = [self.store[int(i)] for i in idx]
        if items[0].is_complex():
            return items
        buffer = self._buffers.get(len(items))
        if buffer is None:
            buffer = self._buffers[len(items)] = items[0].new_empty(len(items), *items[0].shape)
        return torch.stack(items, out=buffer)


THRESHOLD_WIDTH_UB = 0.05  # classify_by=moment: P(class 1) = sigmoid((m - threshold) / width)


class Targets:
    """Labels as tensors; regression targets standardised on the member's training split.

    With ``threshold`` (classify_by=moment) the network regresses ``value`` (the FM moment, uB)
    while ``raw`` keeps the class labels it is scored on; scores become P(class 1) of the
    regressed moment against the threshold.
    """

    def __init__(self, y: np.ndarray, task: str, train: np.ndarray, device: torch.device,
                 value: np.ndarray | None = None, threshold: float | None = None) -> None:
        self.raw = y
        self.mean, self.std = 0.0, 1.0
        self.threshold = threshold
        if task == "class" and threshold is None:
            t = torch.as_tensor(y, dtype=torch.long)
        else:
            fit = y if threshold is None else value
            self.mean = float(fit[train].mean())
            self.std = float(fit[train].std()) or 1.0
            t = torch.as_tensor((fit - self.mean) / self.std, dtype=torch.float32)
        self.t = t.to(device)

    def unscale(self, task: str, score: np.ndarray) -> np.ndarray:
        """Scores back in target units (``unscale``)."""
        return unscale(task, score, self.mean, self.std, self.threshold)


def unscale(task: str, score: np.ndarray, mean: float, std: float,
            threshold: float | None = None) -> np.ndarray:
    """(N,) network scores -> target units: ``score * std + mean`` for regression (uB, eV or
    meV), P(class 1) of that regressed moment against ``threshold`` (uB; classify_by=moment), or
    unchanged (P(class 1) of the softmax). ``mean``/``std``: the training split's target scale."""
    if threshold is not None:
        moment = score * std + mean
        return 1.0 / (1.0 + np.exp(-(moment - threshold) / THRESHOLD_WIDTH_UB))
    return score if task == "class" else score * std + mean


@dataclass
class Member:
    """One network of a trial, with what it trains and validates on (sample indices)."""

    model: MagNet
    optimizer: torch.optim.Optimizer
    train: np.ndarray
    val: np.ndarray
    targets: Targets
    cache: SpectrumCache
    class_weight: torch.Tensor | None
    composition: torch.Tensor | None = None  # (S, W) encoding of every sample (head != cnn)
    aux: torch.Tensor | None = None  # (S, A) auxiliary targets standardised on train, NaN = none
    aux_weight: float = 0.0


def make_optimizer(config: TrialConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """SGD (lr, momentum, weight_decay) or Adam (lr, weight_decay)."""
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay)


def _class_weight(config: TrialConfig, y: np.ndarray, train: np.ndarray) -> torch.Tensor | None:
    """Inverse-frequency weights n / (2 n_c) of the training classes, or None (unweighted)."""
    if config.task != "class" or config.class_weight == "none":
        return None
    counts = np.bincount(y[train].astype(int), minlength=2).astype(float)
    return torch.as_tensor(len(train) / (2 * np.maximum(counts, 1)), dtype=torch.float32)


def new_member(config: TrialConfig, x: torch.Tensor, y: np.ndarray, grid: tuple[int, int, int],
               split: tuple[np.ndarray, np.ndarray], number: int = 0,
               cache: SpectrumCache | None = None, value: np.ndarray | None = None,
               composition: torch.Tensor | None = None, aux: np.ndarray | None = None
               ) -> Member:
    """A fresh member on x's device: weights seeded by (seed, number), scale fitted on ``train``;
    ``cache``: the trial's shared spectrum cache (a new one if None); ``value``: the label column
    before the threshold (``Samples.value``), needed by classify_by=moment; ``composition``:
    (S, W) encoding of every sample (``models.composition.composition_input``), needed by a
    hybrid or composition head (standardised on ``train``); ``aux``: (S, A) auxiliary target
    labels (``Samples.aux``, NaN = none), needed by ``aux_targets``."""
    train, val = split
    torch.manual_seed(config.seed * 7919 + number)
    model = MagNet(config.model_config(), grid).to(x.device)
    model.input_scale.copy_(fit_input_scale(x[torch.as_tensor(train)], config.input_norm))
    if model.reads_composition:
        if composition is None:
            raise ValueError(f"head={config.model.head} needs the composites' composition "
                             "encoding (models.composition.composition_input)")
        model.fit_composition(composition[torch.as_tensor(train)])
    weight = None if config.regresses else _class_weight(config, y, train)
    threshold = None
    if config.classify_by == "moment":
        if value is None:
            raise ValueError("classify_by=moment needs the moments (Samples.value)")
        threshold = config.moment_threshold_uB
    aux_t = None
    if config.auxiliaries:
        if aux is None or aux.shape[1:] != (len(config.auxiliaries),):
            raise ValueError(f"aux_targets={config.aux_targets} needs those labels (Samples.aux)")
        aux_t = torch.as_tensor(standardise_columns(aux, train), dtype=torch.float32).to(x.device)
    return Member(model, make_optimizer(config, model), train, val,
                  Targets(y, config.task, train, x.device, value, threshold),
                  cache or SpectrumCache(model, x, enabled=config.augment == "none"),
                  None if weight is None else weight.to(x.device),
                  composition if model.reads_composition else None, aux_t, config.aux_weight)


def standardise_columns(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(S, A) -> each column minus its mean over the finite ``train`` rows, divided by their std
    (1 where constant or absent); NaN stays NaN (no label)."""
    out = np.array(values, dtype=np.float64)
    for j in range(out.shape[1]):
        known = out[train, j][np.isfinite(out[train, j])]
        mean = float(known.mean()) if len(known) else 0.0
        std = float(known.std()) if len(known) > 1 else 0.0
        out[:, j] = (out[:, j] - mean) / (std if std > 1e-12 else 1.0)
    return out


def aux_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over auxiliary columns of the MSE over the rows with a label; (B, A) each."""
    known = torch.isfinite(target)
    total = pred.new_zeros(())
    for j in range(target.shape[1]):
        rows = known[:, j]
        if rows.any():
            total = total + F.mse_loss(pred[rows, j], target[rows, j])
    return total


def _loss_and_score(m: Member, task: str, out: torch.Tensor, y: torch.Tensor):
    """Loss of outputs (B, 2) or (B, 1) against y, and the score: P(class 1) or the prediction
    (standardised; a regressed moment for classify_by=moment)."""
    if task == "class" and m.targets.threshold is None:
        return F.cross_entropy(out, y, weight=m.class_weight), out.softmax(dim=1)[:, 1]
    pred = out[:, 0]
    return F.mse_loss(pred, y), pred


def _batches(idx: np.ndarray, size: int, seed: int | None) -> list[torch.Tensor]:
    """Index batches; shuffled by a generator seeded from (seed, epoch) when seed is given."""
    t = torch.as_tensor(idx)
    if seed is not None:
        t = t[torch.randperm(len(t), generator=torch.Generator().manual_seed(seed))]
    batches = list(t.split(size))
    if seed is not None and len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]  # batch norm cannot train on one sample
    return batches


def _pass(m: Member, task: str, x: torch.Tensor, batches: list[torch.Tensor],
          augment: Augmenter | None = None, gen: torch.Generator | None = None):
    """One pass over ``batches``; trains when ``augment`` is given. -> (mean loss, scores)."""
    total, scores = 0.0, []
    training = augment is not None
    for idx in batches:
        with torch.set_grad_enabled(training):
            x_hat = m.cache.batch(idx) if m.cache.enabled else None
            if x_hat is not None:  # the cached inputs replace x: no copy of the raw batch
                xb = None
            else:
                xb = augment(x[idx], gen) if training else x[idx]  # (B, C, Nx, Ny, Nz)
            comp = None if m.composition is None else m.composition[idx]
            acts = m.model.activations(xb, x_hat, comp)
            loss, score = _loss_and_score(m, task, acts["output"], m.targets.t[idx])
            if training and m.aux is not None:  # multi-task: the auxiliary targets' MSE
                loss = loss + m.aux_weight * aux_loss(acts["aux"], m.aux[idx])
        if training:
            m.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            m.optimizer.step()
        total += float(loss.detach()) * len(idx)
        scores.append(score.detach())
    n = sum(len(i) for i in batches)
    return total / max(n, 1), torch.cat(scores).double().cpu().numpy()


def _metrics(task: str, m: Member, idx: np.ndarray, loss: float, score: np.ndarray):
    """Metrics in target units: regression loss is the MSE in uB^2 or eV^2 (as the baselines')."""
    value = m.targets.unscale(task, score)
    if task == "reg":
        loss = float(np.mean((value - m.targets.raw[idx]) ** 2))
    return metrics(task, m.targets.raw[idx], value, loss)


def learning_rate(config: TrialConfig, epoch: int) -> float:
    """The learning rate of 0-based ``epoch`` under ``config.lr_schedule``."""
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    return config.lr


def train_epoch(config: TrialConfig, m: Member, x: torch.Tensor, augment: Augmenter,
                epoch: int) -> dict[str, float]:
    """Train ``m`` one epoch (0-based ``epoch`` seeds the batch order and the augmentation);
    -> train_* metrics of the outputs seen while training."""
    seed = config.seed * 100_003 + epoch
    gen = torch.Generator().manual_seed(seed + 1)
    for group in m.optimizer.param_groups:
        group["lr"] = learning_rate(config, epoch)
    m.model.train()
    batches = _batches(m.train, config.batch_size, seed)
    loss, score = _pass(m, config.task, x, batches, augment, gen)
    order = torch.cat(batches).numpy()
    return {f"train_{k}": v for k, v in _metrics(config.task, m, order, loss, score).items()}


def predict(config: TrialConfig, m: Member, x: torch.Tensor, idx: np.ndarray
            ) -> tuple[float, np.ndarray]:
    """(loss, scores in target units: P(class 1) or the value) of samples ``idx``."""
    m.model.eval()
    loss, score = _pass(m, config.task, x, _batches(idx, config.batch_size, None))
    return loss, m.targets.unscale(config.task, score)


def evaluate(config: TrialConfig, m: Member, x: torch.Tensor, idx: np.ndarray
             ) -> dict[str, float]:
    """Metrics of ``m`` on samples ``idx`` (no training)."""
    m.model.eval()
    loss, score = _pass(m, config.task, x, _batches(idx, config.batch_size, None))
    return _metrics(config.task, m, idx, loss, score)
