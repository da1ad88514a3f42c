"""Where in the spin density a trained network looks: attributions, and the atoms they fall on.

    fn = scalar_output(saved.model, saved.config, saved.target_scale, composition)
    attr, delta = integrated_gradients(fn, x)                 # (B, C, Nx, Ny, Nz), (B,)
    regions = site_regions(lattice_A, frac_coords, grid)      # (Nx, Ny, Nz) atom index or -1/-2
    table = site_table(attr[0].sum(0), regions, species, roles)

The network's output is reduced to one number per composite (``scalar_output``): for a classifier
the log-odds of class 1 (logit 1 - logit 0; ground_state: FM), for a regression the value in the
target's units (uB, eV or meV per cell: the standardised output times the training std plus its
mean, which cancels in every difference). Integrated Gradients (Sundararajan et al. 2017;
Captum) attributes f(x) - f(x0) to the input voxels along the straight path from the baseline
x0 = 0 (no spin density: the non-magnetic crystal) to the input x; the attributions sum to that
difference up to the path integral's discretisation (the completeness residual ``delta``).
Units: the output's (log-odds, uB, eV or meV) per grid voxel.

The grid is partitioned among the atoms of the cell (``site_regions``): a voxel belongs to its
nearest atom (periodic minimum image) when that atom lies within ``SITE_RADIUS_A``; voxels
farther than ``VACUUM_RADIUS_A`` from every atom are vacuum; the rest interstitial.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import Tensor

SITE_RADIUS_A = 2.0  # about half the Cr-Te / Te-Te spacing (2.8 / 3.9 A in Cr2Ge2Te6)
VACUUM_RADIUS_A = 3.0
INTERSTITIAL, VACUUM = -1, -2

Scalar = Callable[[Tensor], Tensor]  # (B, C, Nx, Ny, Nz) raw input -> (B,)


def scalar_output(model: torch.nn.Module, config, target_scale: tuple[float, float] | None,
                  composition: Tensor | None = None) -> Scalar:
    """The network as one number per composite: log-odds of class 1 (softmax classifier) or the
    regressed value in target units (regression, classify_by=moment: the moment in uB).
    ``composition``: the (W,) or (1, W) encoding of the composite, held fixed (hybrid heads)."""
    model.eval()
    mean, std = (0.0, 1.0) if target_scale is None else (float(target_scale[0]),
                                                         float(target_scale[1]))

    def fn(x: Tensor) -> Tensor:
        comp = None if composition is None else composition.reshape(1, -1).expand(len(x), -1)
        out = model(x, composition=comp)
        if config.regresses:
            return out[:, 0] * std + mean
        return out[:, 1] - out[:, 0]

    return fn


def integrated_gradients(fn: Scalar, x: Tensor, steps: int = 32, internal_batch: int = 8
                         ) -> tuple[Tensor, Tensor]:
    """Integrated Gradients of ``fn`` at inputs ``x`` (B, ...) against a zero baseline (Captum,
    Gauss-Legendre, ``steps`` points). -> (attributions like x, completeness residual (B,):
    sum of attributions - (fn(x) - fn(0))). ``internal_batch``: path points per pass, at least
    one per input."""
    from captum.attr import IntegratedGradients

    ig = IntegratedGradients(fn)
    attr, delta = ig.attribute(x, baselines=torch.zeros_like(x), n_steps=steps,
                               internal_batch_size=max(internal_batch, len(x)),
                               return_convergence_delta=True)
    return attr.detach(), delta.detach()


def voxel_frac(grid: tuple[int, int, int]) -> np.ndarray:
    """(Nx, Ny, Nz, 3) fractional coordinates of the grid points (i/Nx, j/Ny, k/Nz)."""
    axes = [np.arange(n) / n for n in grid]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


def site_regions(lattice_A: np.ndarray, frac_coords: np.ndarray, grid: tuple[int, int, int],
                 site_radius: float = SITE_RADIUS_A, vacuum_radius: float = VACUUM_RADIUS_A
                 ) -> np.ndarray:
    """(Nx, Ny, Nz) int: the index of the nearest atom (periodic minimum image, distances in A
    with ``lattice_A`` (3, 3) rows a, b, c) where it lies within ``site_radius``, INTERSTITIAL
    (-1) where the nearest atom lies between the two radii, VACUUM (-2) beyond
    ``vacuum_radius``."""
    from scipy.spatial import cKDTree

    lattice = np.asarray(lattice_A, dtype=np.float64)
    atoms = np.asarray(frac_coords, dtype=np.float64) % 1.0
    # every atom and its images in the 26 neighbouring cells: the nearest image of an atom to
    # a voxel of the home cell is among them (for any cell reduced enough to hold a 2D magnet)
    images = (atoms[None, :, :] + _shifts()[:, None, :]).reshape(-1, 3) @ lattice
    owner_of = np.tile(np.arange(len(atoms)), 27)
    voxels = voxel_frac(grid).reshape(-1, 3) @ lattice
    dist, nearest = cKDTree(images).query(voxels, k=1, distance_upper_bound=vacuum_radius)
    far = ~np.isfinite(dist)
    owner = owner_of[np.where(far, 0, nearest)]
    regions = np.where(dist <= site_radius, owner, INTERSTITIAL)
    regions[far | (dist > vacuum_radius)] = VACUUM
    return regions.reshape(grid)


def _shifts() -> np.ndarray:
    """The 27 integer shifts of a cell and its neighbours, (27, 3)."""
    r = (-1.0, 0.0, 1.0)
    return np.array([[a, b, c] for a in r for b in r for c in r])


def site_roles(composite: str, species: list[str]) -> list[str]:
    """Role of each atom of an A1 A2 B1 B2 X6 cell in site order: ``X`` where the species is the
    composite's X, then A1 and A2 for the first two sites of the A elements, ``A`` for further
    images, ``B`` for the B elements; ValueError naming what does not fit."""
    from data_prep.composite import parse_composite

    sites = parse_composite(composite)
    roles, a_seen = [], 0
    for s in species:
        if s == sites["X"]:
            roles.append("X")
        elif s in (sites["A1"], sites["A2"]) and a_seen < 2:
            a_seen += 1
            roles.append(f"A{a_seen}")
        elif s in (sites["A1"], sites["A2"]):
            roles.append("A")
        elif s in (sites["B1"], sites["B2"]):
            roles.append("B")
        else:
            raise ValueError(f"{composite}: atom {s} is none of its A, B or X elements")
    return roles


def site_table(attribution: np.ndarray, regions: np.ndarray, species: list[str],
               roles: list[str], density: np.ndarray | None = None) -> pd.DataFrame:
    """One row per atom, then ``interstitial`` and ``vacuum``: ``attribution`` (the map (Nx, Ny,
    Nz) summed over the region; its units), ``abs_attribution`` (sum of |map|), ``share`` (of
    the total |map|), ``voxels``; with ``density`` (the voxel sums of the input, e.g. uB per
    voxel) its sum over the region as ``density`` (the site moment, uB). An all-zero map (a
    network whose output ignores its input) has NaN shares."""
    total_abs = float(np.abs(attribution).sum()) or float("nan")  # an all-zero map: no shares
    rows = []
    labels = [*range(len(species)), INTERSTITIAL, VACUUM]
    for label in labels:
        mask = regions == label
        site = label >= 0
        row = {"site": label if site else ("interstitial" if label == INTERSTITIAL
                                           else "vacuum"),
               "species": species[label] if site else "",
               "role": roles[label] if site else ("interstitial" if label == INTERSTITIAL
                                                  else "vacuum"),
               "attribution": float(attribution[mask].sum()),
               "abs_attribution": float(np.abs(attribution[mask]).sum()),
               "voxels": int(mask.sum())}
        row["share"] = row["abs_attribution"] / total_abs
        if density is not None:
            row["density"] = float(density[mask].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def role_shares(table: pd.DataFrame, column: str = "share") -> dict[str, float]:
    """A share column of a site table summed per role group: A (A1, A2 and images), B, X,
    interstitial, vacuum (summing to 1; NaN where the map was all zero)."""
    group = table["role"].map(lambda r: "A" if r.startswith("A") else r)
    return {k: float(v) for k, v in table.groupby(group)[column].sum(min_count=1).items()}


@torch.no_grad()
def occlude_sites(fn: Scalar, x: Tensor, regions: np.ndarray, labels: list[int]) -> np.ndarray:
    """fn(x) - fn(x with region ``label`` set to the baseline 0), per label: (len(labels),).
    ``x``: one composite's input (1, C, Nx, Ny, Nz)."""
    base = float(fn(x)[0])
    out = []
    for label in labels:
        mask = torch.as_tensor(regions == label, device=x.device)
        occluded = x.clone()
        occluded[..., mask] = 0.0
        out.append(base - float(fn(occluded)[0]))
    return np.array(out)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (flattened)."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.ravel(a), np.ravel(b)).statistic)


def randomized_copy(model: torch.nn.Module, seed: int = 12345) -> torch.nn.Module:
    """The same network with every learned weight re-initialised (Adebayo et al. 2018's model
    randomisation check); buffers (the input scale, the composition standardisation, batch
    norm statistics) are kept, so only what training learned is gone."""
    import copy

    clone = copy.deepcopy(model)
    kept = {name: b.clone() for name, b in clone.named_buffers()}
    torch.manual_seed(seed)
    for module in clone.modules():
        if module is not clone and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for name, b in clone.named_buffers():
        b.copy_(kept[name])
    return clone.eval()
