"""Plan a trial before running it: parameters, memory (forward + backward per batch), FLOPs.

Memory model (float32 = 4 B, complex64 = 8 B, per training step at ``batch_size``):
    runtime     the Python process with torch, numpy, pandas, sklearn, zarr loaded and the
                dataset read (measured ~450 MB)
    data        all inputs (S, C, Nx, Ny, Nz) + the cached first-layer spectra (S, C, *spec) or,
                for a direct circular first conv, the padded inputs (S, C, N + K - 1 per axis)
    state       weights, gradients and optimizer state (1 buffer for SGD+momentum, 2 for Adam)
    activations per conv block: output and activation (B, F, *out), pool indices (int64) and
                pooled output, and their gradients in backward
    workspace   FFT: kernel spectra (O, C, *spec) x3 (forward, conj, gradient accumulators) and
                one sample's (O, *L) output + spectrum; direct: the input (oneDNN reorder)
Checked against measured peak RSS of the presets (tests/unit/models/test_estimate.py, bench).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from data_prep import TRAIN_GRID
from models.config import coerce, layer_shapes
from models.layers.conv import choose_backend, conv_flops
from models.layers.fftconv import fft_lengths
from models.trial import TrialConfig

RUNTIME_MB = 450.0  # RSS with torch, numpy, pandas, sklearn, zarr loaded and a dataset read
MB = 1024.0**2


@dataclass
class LayerEstimate:
    """One conv layer: output (C, X, Y, Z), parameters, forward FLOPs per sample by backend."""

    name: str
    out_shape: tuple[int, ...]
    params: int
    flops_direct: float
    flops_fft: float
    backend: str


@dataclass
class Estimate:
    """Whole-trial estimate; memory in MB, FLOPs per sample forward (backward ~2x)."""

    params: int
    layers: list[LayerEstimate]
    data_mb: float
    state_mb: float
    activation_mb: float
    workspace_mb: float
    train_memory_mb: float
    available_mb: float | None = None
    notes: list[str] = field(default_factory=list)
    train_tflop: float = 0.0  # the whole trial's training, TFLOP (``training_flops``)

    @property
    def fits(self) -> bool | None:
        """train_memory_mb <= available_mb (None when no limit was given)."""
        return None if self.available_mb is None else self.train_memory_mb <= self.available_mb

    def table(self) -> str:
        """Plain-text report."""
        rows = [f"{'layer':<8}{'output':>22}{'params':>10}{'GFLOP direct':>14}"
                f"{'GFLOP fft':>11}  backend"]
        for layer in self.layers:
            rows.append(f"{layer.name:<8}{'x'.join(map(str, layer.out_shape)):>22}"
                        f"{layer.params:>10}{layer.flops_direct / 1e9:>14.2f}"
                        f"{layer.flops_fft / 1e9:>11.2f}  {layer.backend}")
        rows.append(f"parameters {self.params}; memory MB: data {self.data_mb:.0f}, state "
                    f"{self.state_mb:.0f}, activations {self.activation_mb:.0f}, workspace "
                    f"{self.workspace_mb:.0f}, total with runtime {self.train_memory_mb:.0f}")
        rows.append(f"training, the whole trial (every fold and epoch): {self.train_tflop:.2f} "
                    "TFLOP of convolution")
        if self.available_mb is not None:
            verdict = "fits" if self.fits else "does NOT fit"
            rows.append(f"{verdict} in {self.available_mb:.0f} MB")
        return "\n".join(rows)


def _spec(lengths: tuple[int, ...]) -> int:
    return math.prod(lengths[:-1]) * (lengths[-1] // 2 + 1)


def _conv_layers(cfg, grid, batch):
    """Per conv: (LayerEstimate, input (C, *N), FFT lengths or None)."""
    shapes = layer_shapes(cfg, grid)
    tiled = shapes[0]
    out, stage = [], 1
    for i in range(cfg.depth):
        cin, size = (tiled if i == 0 else shapes[stage - 1])[0], shapes[stage - 1][1:]
        conv_out = shapes[stage]
        k = cfg.kernel_sizes[i]
        tiling = cfg.tiling if i == 0 else (1, 1, 1)
        untiled = tuple(grid) if i == 0 else tuple(size)
        one_period = tiling != (1, 1, 1) and cfg.padding == "valid"
        lengths = tuple(grid) if one_period else fft_lengths(tuple(size), cfg.padding)
        flops = conv_flops(cin, conv_out[0], k, size, conv_out[1:], cfg.padding, batch, lengths)
        backend = choose_backend(cfg.backend, cin, conv_out[0], k, untiled, cfg.padding, tiling,
                                 cfg.strides[i])
        if backend != "fft":
            lengths = None
        params = conv_out[0] * (cin * k**3 + 1)
        out.append((LayerEstimate(f"conv{i}", conv_out, params, flops["direct"], flops["fft"],
                                  backend), (cin, *size), lengths))
        stage += 2 if cfg.pool_sizes[i] > 1 else 1
    return out, shapes


def _activation_bytes(cfg, shapes, batch: int) -> float:
    """Saved activations and their gradients for one batch, bytes."""
    total, stage = 0.0, 1
    for i in range(cfg.depth):
        conv_out = math.prod(shapes[stage])
        total += 4 * batch * conv_out * 3  # activation saved + conv-output grad + activation grad
        if cfg.pool_sizes[i] > 1:
            stage += 1
            total += (8 + 4 + 4) * batch * math.prod(shapes[stage])  # indices, pooled, its grad
        stage += 1
    return total


def estimate(
    config: TrialConfig | dict[str, Any], grid: tuple[int, int, int] = TRAIN_GRID,
    batch_size: int | None = None, *, n_samples: int, available_mb: float | None = None,
) -> Estimate:
    """Estimate a trial on ``n_samples`` inputs of an untiled (Nx, Ny, Nz) grid.

    Raises ConfigError (naming the field) for an impossible configuration.
    """
    trial = TrialConfig.from_dict(config) if isinstance(config, dict) else config
    cfg = coerce(trial.model_config())
    batch = batch_size or trial.batch_size
    layers, shapes = _conv_layers(cfg, tuple(grid), batch)
    feat = shapes[-1][0] if cfg.global_pool else math.prod(shapes[-1])
    widths = [feat, *cfg.dense, cfg.num_outputs]
    params = sum(le.params for le, _, _ in layers)
    params += sum((a + 1) * b for a, b in itertools.pairwise(widths))
    params += 2 * feat if cfg.feature_norm else 0  # batch-norm scale and shift
    # every fold's model and optimizer state live side by side
    state = 4.0 * params * (2 + (2 if trial.optimizer == "adam" else int(trial.momentum > 0)))
    state *= max(trial.folds, 1)
    data = 4.0 * n_samples * cfg.in_channels * math.prod(grid)
    workspace = 0.0
    for i, (layer, (cin, *size), lengths) in enumerate(layers):
        cout = layer.out_shape[0]
        if lengths is None:
            workspace = max(workspace, 4.0 * batch * cin * math.prod(size) * 2)
            if i == 0 and cfg.padding == "circular" and tuple(cfg.tiling) == (1, 1, 1):
                k = cfg.kernel_sizes[0]  # cached circularly padded inputs (Conv3d.prepare_input)
                data += 4.0 * n_samples * cin * math.prod(n + k - 1 for n in size)
            continue
        spec, full = _spec(lengths), math.prod(lengths)
        kernel_ws = 8.0 * cout * cin * spec * 4 + 8.0 * cout * spec * 2 + 4.0 * cout * full * 2
        saved = 0.0 if i == 0 else 8.0 * batch * cin * spec  # X^ kept for backward
        workspace = max(workspace, kernel_ws + saved)
        if i == 0:
            data += 8.0 * n_samples * cin * spec  # cached input spectra
    activations = _activation_bytes(cfg, shapes, batch)
    total = RUNTIME_MB + (data + state + activations + workspace) / MB
    chosen = [le.flops_fft if le.backend == "fft" else le.flops_direct for le, _, _ in layers]
    return Estimate(params, [le for le, _, _ in layers], data / MB, state / MB,
                    activations / MB, workspace / MB, total, available_mb,
                    train_tflop=training_flops(trial, sum(chosen), n_samples) / 1e12)


def training_flops(trial: TrialConfig, forward_flops: float, n_samples: int) -> float:
    """FLOPs of a whole trial's training from its per-sample forward FLOPs (the conv layers with
    their chosen backends): each training sample costs 3x its forward (forward, the input and
    the weight gradients), each validation sample 1x, per fold, epoch and repeat. ``n_samples``:
    the development composites (a k-fold split trains on (k-1)/k of them and validates on 1/k;
    folds = 0: one split by ``val_fraction``)."""
    if trial.folds >= 2:
        train, val, splits = (trial.folds - 1) / trial.folds, 1 / trial.folds, trial.folds
    else:
        train, val, splits = 1 - trial.val_fraction, trial.val_fraction, 1
    per_epoch = splits * n_samples * forward_flops * (3 * train + val)
    return per_epoch * trial.epochs * trial.repeats
