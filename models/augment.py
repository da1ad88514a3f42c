"""Augmentation by the crystal's exact symmetries: index permutations of the grid, no interpolation.

A density on a periodic grid stays a valid density of the same crystal when it is translated by
whole grid steps along a or b, or transformed by a point operation of the lattice that maps the
grid onto itself. Spin and space are decoupled in a collinear calculation without spin-orbit
coupling, so the label (ground state, moment, exchange energy) does not change.

A point operation is an integer matrix M acting on fractional coordinates, u' = M u, that keeps
the metric G = L L^T (rows of L: a, b, c in A): M^T G M = G. On an (Na, Nb, Nc) grid it is a
permutation of the grid points when every N_k M_kl / N_l is an integer (e.g. the 120-degree
rotation of a hexagonal cell, (u, v) -> (-v, u - v), needs Na = Nb). Modes:

- ``none``: no augmentation.
- ``translate``: random periodic shifts along a and b.
- ``rotate``: shifts and the lattice's rotations about c (C2, C3, C6 for a hexagonal cell).
- ``symmetry``: shifts and every point operation of the lattice (hexagonal: 24, with the mirrors).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import torch

AUGMENTS = ("none", "translate", "rotate", "symmetry")


class AugmentError(ValueError):
    """The cell does not have the symmetry an augmentation mode asks for."""


@lru_cache(maxsize=1)
def _candidates() -> np.ndarray:
    """(K, 3, 3) integer matrices with entries in {-1, 0, 1} and determinant +-1."""
    all_m = np.array(list(itertools.product((-1, 0, 1), repeat=9))).reshape(-1, 3, 3)
    det = np.rint(np.linalg.det(all_m)).astype(int)
    return all_m[np.abs(det) == 1]


def grid_compatible(m: np.ndarray, grid: tuple[int, int, int]) -> bool:
    """Whether u' = M u maps every point of the (Na, Nb, Nc) grid onto a grid point."""
    n = np.asarray(grid)
    return all((n[k] * m[k, q]) % n[q] == 0 for k in range(3) for q in range(3) if m[k, q])


def point_operations(lattice_A: np.ndarray, grid: tuple[int, int, int],
                     rtol: float = 1e-4) -> list[np.ndarray]:
    """Integer matrices (3, 3) of the lattice's point operations that permute the grid.

    Args:
        lattice_A: (3, 3) lattice vectors a, b, c as rows, A.
        grid: (Na, Nb, Nc) grid points.
        rtol: tolerance on the metric, relative to its largest entry.
    """
    lat = np.asarray(lattice_A, dtype=float)
    if lat.shape != (3, 3) or not np.all(np.isfinite(lat)):
        raise AugmentError("symmetry augmentation needs the cell's lattice (index lattice_A)")
    g = lat @ lat.T
    ms = _candidates()
    kept = np.abs(np.einsum("kji,jl,klm->kim", ms, g, ms) - g).max(axis=(1, 2))
    isometries = ms[kept <= rtol * np.abs(g).max()]
    return [m for m in isometries if grid_compatible(m, grid)]


def is_rotation_about_c(m: np.ndarray) -> bool:
    """A proper rotation (det +1) that leaves the c axis and the c coordinate alone."""
    return (round(np.linalg.det(m)) == 1 and m[2, 2] == 1 and not m[2, :2].any()
            and not m[:2, 2].any())


def gather_index(m: np.ndarray, grid: tuple[int, int, int]) -> np.ndarray:
    """Flat source index of every output point: out[j] = in[M^-1 j mod N] (a permutation)."""
    inv = np.rint(np.linalg.inv(m)).astype(np.int64)
    n = np.asarray(grid, dtype=np.int64)
    j = np.indices(grid, dtype=np.int64).reshape(3, -1)  # (3, Npoints) output indices
    # i_k = sum_l inv_kl * j_l * N_k / N_l, integer by grid compatibility
    src = np.stack([sum(inv[k, q] * j[q] * n[k] // n[q] for q in range(3)) % n[k]
                    for k in range(3)])
    return np.ravel_multi_index(tuple(src), grid)


def apply_operation(x: torch.Tensor | np.ndarray, m: np.ndarray):
    """Transform (..., Na, Nb, Nc) by the point operation M (an exact permutation of values)."""
    grid = tuple(x.shape[-3:])
    idx = gather_index(m, grid)
    if isinstance(x, np.ndarray):
        return x.reshape(*x.shape[:-3], -1)[..., idx].reshape(x.shape)
    flat = x.reshape(*x.shape[:-3], -1)
    return flat[..., torch.as_tensor(idx, device=x.device)].reshape(x.shape)


def operations_for(mode: str, lattices: np.ndarray, grid: tuple[int, int, int]
                   ) -> list[np.ndarray]:
    """The point operations of ``mode`` valid for every cell in ``lattices`` (S, 3, 3)."""
    if mode not in AUGMENTS:
        raise AugmentError(f"augment: {mode!r} is not one of {', '.join(AUGMENTS)}")
    if mode in ("none", "translate"):
        return [np.eye(3, dtype=int)]
    shapes = {tuple(np.round(lat / np.abs(lat).max(), 6).ravel()) for lat in lattices}
    common: list[np.ndarray] | None = None
    for shape in shapes:
        ops = point_operations(np.reshape(shape, (3, 3)), grid)
        common = ops if common is None else [m for m in common
                                             if any((m == o).all() for o in ops)]
    ops = [m for m in common or [] if mode == "symmetry" or is_rotation_about_c(m)]
    if len(ops) < 2:
        what = "rotation about c" if mode == "rotate" else "point operation"
        raise AugmentError(f"augment={mode}: the cells have no {what} besides the identity "
                           f"that maps the {'x'.join(map(str, grid))} grid onto itself")
    return ops


class Augmenter:
    """Applies a random symmetry operation of ``mode`` to each sample of a training batch.

    Args:
        mode: one of AUGMENTS.
        lattices: (S, 3, 3) lattices of the training cells (rows a, b, c, A); only read for
            ``rotate`` and ``symmetry``.
        grid: (Na, Nb, Nc) of the inputs.
    """

    def __init__(self, mode: str, lattices: np.ndarray | None, grid: tuple[int, int, int]) -> None:
        self.mode, self.grid = mode, tuple(grid)
        ops = operations_for(mode, np.asarray(lattices), self.grid) if mode in (
            "rotate", "symmetry") else []
        self.gathers = [torch.as_tensor(gather_index(m, self.grid).astype(np.int32)).long()
                        for m in ops if not (m == np.eye(3, dtype=int)).all()]

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """(B, C, Na, Nb, Nc) -> the same batch, each sample shifted / transformed at random."""
        if self.mode == "none":
            return x
        gen = gen or torch.Generator().manual_seed(0)
        out = []
        for sample in x:  # (C, Na, Nb, Nc)
            shift = [int(torch.randint(n, (1,), generator=gen)) for n in self.grid[:2]]
            sample = torch.roll(sample, shifts=shift, dims=(-3, -2))
            pick = int(torch.randint(len(self.gathers) + 1, (1,), generator=gen))
            if pick < len(self.gathers):  # the last choice is the identity
                idx = self.gathers[pick].to(sample.device)
                sample = sample.reshape(sample.shape[0], -1)[:, idx].reshape(sample.shape)
            out.append(sample)
        return torch.stack(out)
