"""Shared Zarr dataset -> training arrays: one spin density and one label per composite.

The only place models read data (docs/CONTRACTS.md): ``data_prep.dataset.store.open_dataset(path)``
with
``.index`` (one row per sample), ``.labels`` (one row per composite) and ``.spin(sample_id)`` ->
float32 (Nx, Ny, Nz) magnetization density m in uB/A^3, [i, j, k] along a, b, c (60x60x120 on the
training grid). Any object with those three members may stand in for a path (tests, in-memory data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from data_prep import TARGET_COLUMNS
from data_prep.dataset.labels import MOMENT_THRESHOLD_UB
from models.site_moments import NoSiteInformation as NoSiteInformation  # load_samples raises it
from models.site_moments import site_moments_of

INTEGRAL_NAMES = ("net_uB", "abs_uB", "A1_sphere_uB", "A2_sphere_uB")
CLASS_MEANING = {"ground_state": "1 = FM ground state (E_FM < E_AFM), 0 = AFM",
                 "moment_class": "1 = FM moment above the threshold (uB per cell), 0 = below"}


@dataclass
class Samples:
    """Inputs and labels of one target, one sample per composite.

    Attributes:
        spin: (S, Nx, Ny, Nz) float32, signed magnetization density m, uB/A^3; (S, K, Nx, Ny,
            Nz) when the input is K configurations' densities of each composite (FM+AFM-Neel).
        y: (S,) int64 class (classification) or float64 value (moment uB, exchange eV/cell).
        composites: (S,) composite names, e.g. ``CrVGe2Te6`` (the split groups).
        sample_ids: (S,) dataset sample ids.
        dropped: composites left out, with the reason (no input of that configuration, no label).
        volume_A3: (S,) cell volumes, A^3 (NaN where the dataset has none).
        lattice_A: (S, 3, 3) lattice vectors a, b, c as rows, A (NaN where unknown).
        test: (S,) True for the held-out test composites (``data_prep.dataset.holdout``).
        value: (S,) float64, the label column before any threshold: the FM moment in uB for
            moment_class (what ``classify_by=moment`` regresses), else y as float.
        integrals_uB: (S, K, F) float64, per input configuration k the integrals of the input
            density, uB, in the order of ``INTEGRAL_NAMES``: over the cell the net moment
            sum(m) V/N and sum(|m|) V/N (F = 2), then, where the dataset records its atoms, the
            moments in the spheres around A1 and A2 (F = 4; ``models.site_moments``). The
            baseline that reads the same densities (``models.baselines``); None without cell
            volumes.
        aux: (S, A) float64 labels of the auxiliary targets (``TrialConfig.aux_targets``) in
            their units, NaN where a composite has none; None without auxiliary targets.
    """

    spin: np.ndarray
    y: np.ndarray
    composites: list[str]
    sample_ids: list[str]
    dropped: dict[str, str]
    volume_A3: np.ndarray | None = None
    lattice_A: np.ndarray | None = None
    test: np.ndarray | None = None
    value: np.ndarray | None = None
    integrals_uB: np.ndarray | None = None
    aux: np.ndarray | None = None

    @property
    def grid(self) -> tuple[int, int, int]:
        """(Nx, Ny, Nz) of the densities."""
        return tuple(self.spin.shape[-3:])  # type: ignore[return-value]


def open_source(dataset: Any) -> Any:
    """A path -> ``data_prep.dataset.store.open_dataset(path)``; anything else is returned as is."""
    if isinstance(dataset, str | Path):
        from data_prep.dataset.store import open_dataset

        return open_dataset(dataset)
    return dataset


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` whether it is a column or (part of) the index."""
    if name in df.columns:
        return df[name].reset_index(drop=True)
    if name in (df.index.names or []):
        return pd.Series(df.index.get_level_values(name))
    raise KeyError(f"dataset table lacks {name!r} (columns: {list(df.columns)})")


def _label_of(labels: pd.DataFrame, target: str, threshold_uB: float
              ) -> tuple[dict[str, float], dict[str, float]]:
    """composite -> label, and composite -> the label column's value before any threshold (NaN
    where the campaign could not decide it)."""
    composites = _column(labels, "composite")
    values = _column(labels, TARGET_COLUMNS[target]).astype(float)
    label = values
    if target == "moment_class":  # recomputed so the threshold is a hyperparameter
        label = (values > threshold_uB).astype(float).where(values.notna())
    return (dict(zip(composites, label, strict=True)),
            dict(zip(composites, values, strict=True)))


def load_samples(
    dataset: Any, target: str = "ground_state", configuration: str = "FM",
    threshold_uB: float = MOMENT_THRESHOLD_UB, site_moments: bool | None = None,
    require_label: bool = True,
) -> Samples:
    """Read the input density (from ``configuration``) and the label of every composite.

    The input always comes from the same configuration(s) for every composite, so the label
    cannot be read off which configuration a density came from. ``configuration``: one name
    (``FM``; spin (S, Nx, Ny, Nz)) or several joined by ``+`` (``FM+AFM-Neel``; spin (S, K, Nx,
    Ny, Nz), the composite's densities in that order). Composites without every named run or
    without a label are dropped (listed in ``Samples.dropped``); with ``require_label=False``
    (prediction) only those without every named run are, and ``y`` / ``value`` are NaN (float64)
    where a composite has no label.

    ``site_moments``: None (default) adds the A-sphere moments to ``integrals_uB`` where every
    kept sample records its atoms; True requires them (NoSiteInformation, one line saying how to
    add them, otherwise); False leaves them out.
    """
    ds = open_source(dataset)
    keep, dropped, label, raw = _select(ds, target, configuration, threshold_uB, require_label)
    wanted = configuration.split("+")
    first = np.asarray(ds.spin(keep[0][1][0], grid="train"), dtype=np.float32)
    shape = (len(keep), *first.shape) if len(wanted) == 1 else (len(keep), len(wanted),
                                                                 *first.shape)
    spin = np.empty(shape, dtype=np.float32)  # filled in place: no copies
    for i, (_, runs) in enumerate(keep):
        for j, sid in enumerate(runs):
            (spin[i] if len(wanted) == 1 else spin[i, j])[...] = ds.spin(sid, grid="train")
    y = np.array([label.get(c, np.nan) for c, _ in keep], dtype=np.float64)
    y = y.astype(np.int64) if target in CLASS_MEANING and np.isfinite(y).all() else y
    comps, sids = [c for c, _ in keep], [runs[0] for _, runs in keep]
    volume, lattice = _geometry(ds.index, sids)
    held_out = set(test_composites(ds))
    return Samples(spin, y, comps, sids, dropped, volume, lattice,
                   np.array([c in held_out for c in comps], dtype=bool),
                   np.array([raw.get(c, np.nan) for c in comps], dtype=np.float64),
                   _integrals(ds, [runs for _, runs in keep], spin, volume, site_moments))


def _integrals(ds: Any, runs: list[list[str]], spin: np.ndarray, volume: np.ndarray,
               site_moments: bool | None) -> np.ndarray | None:
    """(S, K, 2 or 4) ``Samples.integrals_uB``: the cell integrals, then the A-sphere moments
    when ``site_moments`` asks for them or (None) every sample has its atoms."""
    cell = density_integrals(spin, volume)
    if site_moments is False:
        return cell
    sites = site_moments_of(ds, runs, spin, required=bool(site_moments))
    if cell is None or sites is None:
        return cell
    return np.concatenate([cell, sites], axis=2)


def density_integrals(spin: np.ndarray, volume_A3: np.ndarray) -> np.ndarray | None:
    """(S, [K,] Nx, Ny, Nz) densities in uB/A^3 and (S,) cell volumes in A^3 -> (S, K, 2) float64
    integrals over the cell in uB: (net moment, integral of |m|) per configuration k.

    The integral of a per-volume density is sum * V_cell / N_grid (the CHGCAR convention). None
    when a volume is unknown (in-memory stand-ins): no integral is made up.
    """
    volume = np.asarray(volume_A3, dtype=np.float64)
    if not np.all(np.isfinite(volume)):
        return None
    per_config = spin if spin.ndim == 5 else spin[:, None]  # (S, K, Nx, Ny, Nz), a view
    dv = volume / float(np.prod(spin.shape[-3:]))  # (S,) A^3 per voxel
    out = np.empty((*per_config.shape[:2], 2))
    axes = (-3, -2, -1)
    for i, sample in enumerate(per_config):  # one sample at a time: one |m| temporary
        out[i, :, 0] = sample.sum(axis=axes, dtype=np.float64) * dv[i]
        out[i, :, 1] = np.abs(sample).sum(axis=axes, dtype=np.float64) * dv[i]
    return out


def _select(ds: Any, target: str, configuration: str, threshold_uB: float,
            require_label: bool = True):
    """-> (kept [(composite, [sample id per configuration])], dropped {composite: why},
    label {composite: y}, raw {composite: value}); ValueError when nothing is kept. Without
    ``require_label`` a composite needs only its runs (and a store without the label column
    has no labels)."""
    index = ds.index
    ids, comps, confs = (_column(index, n) for n in ("sample_id", "composite", "configuration"))
    wanted = configuration.split("+")
    try:
        label, raw = _label_of(ds.labels, target, threshold_uB)
    except KeyError:
        if require_label:
            raise
        label, raw = {}, {}
    dropped: dict[str, str] = {}
    keep: list[tuple[str, list[str]]] = []
    by_run: dict[tuple[str, str], str] = {}
    for i in range(len(ids)):  # the first sample of a run, as before several configurations
        by_run.setdefault((comps[i], confs[i]), ids[i])
    for comp in sorted(set(comps)):
        missing = [k for k in wanted if (comp, k) not in by_run]
        value = label.get(comp, float("nan"))
        if missing:
            dropped[comp] = f"no {' or '.join(missing)} sample"
        elif require_label and not np.isfinite(value):
            dropped[comp] = f"no {target} label"
        else:
            keep.append((comp, [by_run[(comp, k)] for k in wanted]))
    if not keep:
        reasons = pd.Series(list(dropped.values())).value_counts()
        why = ", ".join(f"{n} composites: {r}" for r, n in reasons.items())
        what = (f"both a {configuration} density and a {target} label" if require_label
                else f"a {configuration} density")
        raise ValueError(f"no composite has {what} ({why})")
    return keep, dropped, label, raw


def label_values(dataset: Any, target: str, composites: list[str]) -> np.ndarray:
    """(S,) float64 label column of ``target`` in its units (``TARGET_COLUMNS``: uB, eV, meV;
    ground_state 0/1) for each composite, NaN where the dataset has none."""
    ds = open_source(dataset)
    try:
        _, raw = _label_of(ds.labels, target, 4.0)
    except KeyError:
        raw = {}
    return np.array([raw.get(c, np.nan) for c in composites], dtype=np.float64)


def labelled_composites(
    dataset: Any, target: str = "ground_state", configuration: str = "FM",
    threshold_uB: float = MOMENT_THRESHOLD_UB,
) -> tuple[list[str], np.ndarray]:
    """The composites ``load_samples`` would keep (every named run and a label), and their labels
    (S,), without reading a density: what an outer split of a nested cross-validation needs."""
    keep, _, label, _ = _select(open_source(dataset), target, configuration, threshold_uB)
    y = np.array([label[c] for c, _ in keep])
    return [c for c, _ in keep], (y.astype(np.int64) if target in CLASS_MEANING else y)


def test_composites(ds: Any) -> list[str]:
    """The dataset's held-out test composites: its recorded split, else the same rule
    (``data_prep.dataset.holdout``) applied to its labels (in-memory stand-ins)."""
    recorded = getattr(ds, "test_composites", None)
    if recorded is not None:
        return list(recorded)
    from data_prep.dataset.holdout import holdout_composites

    return holdout_composites(None, ds.labels)


def _geometry(index: pd.DataFrame, sample_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(S,) volumes in A^3 and (S, 3, 3) lattices in A of the samples; NaN where not indexed."""
    n = len(sample_ids)
    volume, lattice = np.full(n, np.nan), np.full((n, 3, 3), np.nan)
    rows = index.set_index("sample_id") if "sample_id" in index.columns else index
    for i, sid in enumerate(sample_ids):
        row = rows.loc[sid]
        if "volume_A3" in rows.columns and row["volume_A3"] is not None:
            volume[i] = float(row["volume_A3"])
        if "lattice_A" in rows.columns and row["lattice_A"] is not None:
            lattice[i] = np.asarray(row["lattice_A"], dtype=float).reshape(3, 3)
    return volume, lattice


INPUT_UNITS = ("density", "voxel")


def per_voxel(spin: np.ndarray, volume_A3: np.ndarray) -> np.ndarray:
    """(S, [K,] Nx, Ny, Nz) densities in uB/A^3 -> uB per grid voxel, m V_cell / N_grid, in place.

    The sum over a sample's grid is then its cell's moment in uB, whatever the cell's volume (the
    CHGCAR convention): with per-volume densities a network cannot tell a large cell's moment from
    a small one's (the Te cells differ by 25% in volume).
    """
    volume = np.asarray(volume_A3, dtype=np.float64)
    if volume.shape != spin.shape[:1] or not np.all(np.isfinite(volume)):
        raise ValueError("input_units=voxel needs every sample's cell volume (index volume_A3)")
    n_grid = float(np.prod(spin.shape[-3:]))
    spin *= (volume / n_grid).astype(np.float32).reshape(-1, *[1] * (spin.ndim - 1))
    return spin


def to_channels(spin: np.ndarray, mode: str = "split") -> torch.Tensor:
    """(S, Nx, Ny, Nz) signed m -> (S, C, Nx, Ny, Nz) float32 tensor.

    ``split``: C = 2, (max(m, 0), max(-m, 0)) as in the original work; ``signed``: C = 1, m.
    (S, K, Nx, Ny, Nz), K configurations per composite -> (S, K C, ...): each configuration's
    C channels in turn. Tiling is the model's job (``MagNet.tile``), so the stored inputs stay at
    the native grid.
    """
    if spin.ndim == 5:
        return torch.cat([to_channels(spin[:, k], mode) for k in range(spin.shape[1])], dim=1)
    m = torch.from_numpy(np.ascontiguousarray(spin, dtype=np.float32))
    if mode == "signed":
        return m[:, None].clone()  # (S, 1, Nx, Ny, Nz), not sharing the caller's array
    out = m.new_empty(m.shape[0], 2, *m.shape[1:])  # (S, 2, Nx, Ny, Nz), no temporaries
    torch.clamp(m, min=0, out=out[:, 0])
    torch.clamp(m, max=0, out=out[:, 1])
    out[:, 1].abs_()  # = max(-m, 0), with +0.0 where m > 0
    return out
