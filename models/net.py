"""MagNet: the configurable Conv3D network of the Table 2 space (see ``models.config``)."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from data_prep import TRAIN_GRID as DEFAULT_GRID
from models.composition import WIDTH as COMPOSITION_WIDTH
from models.config import ModelConfig, coerce, layer_shapes
from models.layers.conv import Conv3d


def activation_fn(name: str) -> nn.Module:
    """The activation module for a ModelConfig.activation name."""
    table = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
             "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    return table[name]()


class MagNet(nn.Module):
    """Tiling -> [Conv3d -> activation -> MaxPool3d] x depth -> flatten | global mean -> dense head.

    Input: (B, in_channels, Nx, Ny, Nz) on the untiled grid given at construction, and for
    ``head`` hybrid or composition the composites' encoding (B, ``models.composition.WIDTH``),
    standardised by the ``composition_mean`` / ``composition_std`` buffers (fitted on the
    training composites, saved with the weights) and joined to the density features (hybrid) or
    read alone (composition: no conv block is built). Output: (B, num_outputs) logits
    (classification) or values (regression).
    """

    def __init__(self, cfg: ModelConfig, grid: tuple[int, int, int] = DEFAULT_GRID) -> None:
        super().__init__()
        self.cfg, self.grid = coerce(cfg), tuple(grid)
        self.shapes = layer_shapes(self.cfg, self.grid)  # validates; (C, Nx, Ny, Nz) per stage
        c = self.cfg
        self.reads_density = c.head != "composition"
        self.reads_composition = c.head != "cnn"
        chans = (c.in_channels, *c.conv_filters)
        self.convs = nn.ModuleList(
            Conv3d(chans[i], chans[i + 1], c.kernel_sizes[i], c.strides[i], c.padding, c.backend)
            for i in range(c.depth if self.reads_density else 0)
        )
        self.act = activation_fn(c.activation)
        last = self.shapes[-1]
        density_width = (last[0] if c.global_pool else math.prod(last)) * self.reads_density
        composition_width = COMPOSITION_WIDTH * self.reads_composition
        width = [density_width + composition_width, *c.dense]
        self.feature_norm = (nn.BatchNorm1d(density_width) if c.feature_norm and density_width
                             else nn.Identity())
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(width))
        self.head = nn.Linear(width[-1], c.num_outputs + c.aux_outputs)
        # per-channel input scale (models.normalize), fitted on the training composites; saved
        # in the state dict so the normalisation travels with the weights
        self.register_buffer("input_scale", torch.ones(c.in_channels))
        if self.reads_composition:
            self.register_buffer("composition_mean", torch.zeros(COMPOSITION_WIDTH))
            self.register_buffer("composition_std", torch.ones(COMPOSITION_WIDTH))

    def fit_composition(self, encoding: Tensor) -> None:
        """Set the composition standardisation from the training composites' encoding (N, W):
        per column the mean and std over the finite values (std 1 where a column is constant,
        mean 0 where it has no finite value)."""
        if not self.reads_composition:
            return
        finite = torch.isfinite(encoding)
        n = finite.sum(0).clamp(min=1)
        filled = torch.where(finite, encoding, 0.0)
        mean = filled.sum(0) / n
        var = (torch.where(finite, encoding - mean, 0.0) ** 2).sum(0) / n
        std = var.sqrt()
        self.composition_mean.copy_(mean)
        self.composition_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def composition_features(self, encoding: Tensor | None) -> Tensor:
        """(B, W) encoding -> standardised features, 0 (the training mean) where NaN."""
        if encoding is None:
            raise ValueError(f"head={self.cfg.head}: this network reads the composites' "
                             "composition encoding too (models.composition); none was given")
        z = (encoding - self.composition_mean) / self.composition_std
        return torch.nan_to_num(z, nan=0.0)
    def normalize(self, x: Tensor) -> Tensor:
        """(B, C, Nx, Ny, Nz) raw inputs -> inputs divided by the per-channel ``input_scale``."""
        return x / self.input_scale.view(1, -1, 1, 1, 1)

    @property
    def tiled_size(self) -> tuple[int, int, int]:
        """Spatial size seen by the first conv: grid x tiling."""
        return tuple(self.shapes[0][1:])  # type: ignore[return-value]

    def input_spectrum(self, x: Tensor) -> Tensor | None:
        """What the first conv takes in place of an untiled raw batch (B, C, Nx, Ny, Nz): its
        spectrum (FFT) or its circularly padded copy (direct, circular); None if neither.

        Constant across epochs for a fixed sample, and independent of ``input_scale`` (applied to
        the first conv's kernel; the conv is linear): one cache serves every fold's model.
        """
        if not self.convs:
            return None
        return self.convs[0].prepare_input(x, self.cfg.tiling)

    def activations(
        self, x: Tensor | None, x_hat: Tensor | list[Tensor] | None = None,
        composition: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Every intermediate tensor by name: ``conv{i}``, ``act{i}``, ``pool{i}``, ``features``,
        ``dense{j}``, ``output`` (and ``aux`` with auxiliary outputs). ``x`` is raw
        (un-normalised) input; with ``x_hat`` (the first conv's prepared raw input: spectra or
        padded copies) x is not read and may be None.
        ``composition``: the (B, W) encoding, for a hybrid or composition head.
        """
        out: dict[str, Tensor] = {}
        if not self.reads_density:
            h = out["features"] = self.composition_features(composition)
            return self._head(h, out)
        h = x
        for i, conv in enumerate(self.convs):
            if i == 0:  # the tiling is the first conv's business (one-period FFT path); the
                # input scale goes into its kernel: x / s is never formed
                h = conv(x if x_hat is None else None, x_hat, self.grid, self.cfg.tiling,
                         in_scale=self.input_scale)
            else:
                h = conv(h)
            out[f"conv{i}"] = h  # (B, F_i, Mx, My, Mz)
            h = out[f"act{i}"] = self.act(h)
            if self.cfg.pool_sizes[i] > 1:
                h = out[f"pool{i}"] = F.max_pool3d(h, self.cfg.pool_sizes[i])
        h = h.mean(dim=(-3, -2, -1)) if self.cfg.global_pool else h.flatten(1)  # (B, features)
        h = self.feature_norm(h)
        if self.reads_composition:
            h = torch.cat([h, self.composition_features(composition)], dim=1)
        out["features"] = h
        return self._head(h, out)

    def _head(self, h: Tensor, out: dict[str, Tensor]) -> dict[str, Tensor]:
        for j, layer in enumerate(self.hidden):
            h = out[f"dense{j}"] = self.act(layer(h))
        both = self.head(h)
        out["output"] = both[:, : self.cfg.num_outputs]  # (B, num_outputs)
        if self.cfg.aux_outputs:
            out["aux"] = both[:, self.cfg.num_outputs :]  # (B, aux_outputs), standardised
        return out

    def forward(self, x: Tensor, x_hat: Tensor | list[Tensor] | None = None,
                composition: Tensor | None = None) -> Tensor:
        """(B, C, Nx, Ny, Nz) [and (B, W) composition encoding] -> (B, num_outputs)."""
        return self.activations(x, x_hat, composition)["output"]

    def filters(self, layer: int = 0) -> Tensor:
        """Learned kernels of conv ``layer``, detached: (F, C, K, K, K), same units as the input;
        (0, C, 1, 1, 1) for a composition-only network (it has none)."""
        if not self.convs:
            return torch.zeros(0, self.cfg.in_channels, 1, 1, 1)
        return self.convs[layer].weight.detach().clone()

    def set_backend(self, backend: str) -> None:
        """Switch every conv to ``direct``, ``fft`` or ``auto`` (weights unchanged)."""
        for conv in self.convs:
            conv.backend = backend


def num_parameters(model: nn.Module) -> int:
    """Trainable parameter count."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
