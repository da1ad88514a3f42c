"""A trained network applied to a dataset's composites, its input prepared exactly as in training.

    saved = load_saved("model.pt")
    new = prediction_inputs(saved, "DS.zarr")        # Refused: one line naming the mismatch
    p1 = network_scores(saved, new.x)                 # (S,) P(class 1) or values, target units

The input is what ``models.train.prepare`` gives a trial (the model's input configuration(s),
input units and channels), divided by the model's own stored ``input_scale``: nothing is refitted
on the new dataset. A dataset that cannot feed the network (another training grid, none of its
input configurations) is refused before a density is read; single composites without every input
configuration are skipped with the reason. No labels are needed. No MLflow here
(``search.evaluation.predict`` finds a search's model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from data_prep import TARGET_COLUMNS
from models.data import Samples, open_source
from models.member import unscale
from models.saved import SavedModel


class Refused(ValueError):
    """A dataset or model file that cannot be used, in one line naming the problem."""


@dataclass
class Inputs:
    """A dataset's composites prepared for a network.

    Attributes:
        samples: their densities' integrals (``integrals_uB``, uB), names, labels where the
            dataset has them (``y``; NaN elsewhere); the densities themselves are in ``x``.
        x: (S, C, Nx, Ny, Nz) float32 network input, C = the model's channels per input
            configuration x configurations, in training units (uB per voxel or uB/A^3), before
            the model's input scale (the network applies it).
        skipped: composite -> why it has no prediction (no density of an input configuration).
        composition: (S, W) composition encoding (``models.composition``) for a model whose
            head reads it; None for a density-only network.
    """

    samples: Samples
    x: torch.Tensor
    skipped: dict[str, str]
    composition: torch.Tensor | None = None


def grid_text(grid: tuple[int, ...]) -> str:
    """(60, 60, 120) -> ``60x60x120``."""
    return "x".join(str(int(n)) for n in grid)


def value_name(target: str) -> str:
    """The label column of a target, with its unit: ``moment_uB``, ``exchange_energy_eV``."""
    return TARGET_COLUMNS[target]


def check_fits(ds: Any, name: str, saved: SavedModel, grid: tuple[int, int, int]) -> None:
    """Refused (one line) unless dataset ``ds`` (``name`` in messages) is on the network's
    training ``grid`` (Nx, Ny, Nz) and some composite has every input configuration."""
    have = tuple(int(n) for n in getattr(ds, "train_grid", grid))
    if have != tuple(grid):
        raise Refused(f"{name}: grid {grid_text(have)} but the model was trained on "
                      f"{grid_text(grid)} (magvox prep --train-grid {' '.join(map(str, grid))})")
    wanted = saved.config.configurations
    runs = pd.DataFrame({"composite": list(ds.index["composite"]),
                         "configuration": list(ds.index["configuration"])})
    per_composite = runs.groupby("composite")["configuration"].agg(set)
    if not any(set(wanted) <= confs for confs in per_composite):
        found = ", ".join(sorted(set(runs["configuration"]))) or "none"
        raise Refused(f"{name}: no composite has the model's input configuration "
                      f"{saved.config.configuration} (its runs: {found}); the network reads "
                      f"{saved.model.cfg.in_channels} channels from "
                      f"{' and '.join(wanted)} densities")


def prediction_inputs(saved: SavedModel, dataset: Any, name: str | None = None,
                      grid: tuple[int, int, int] | None = None,
                      device: torch.device | None = None) -> Inputs:
    """Check that ``dataset`` fits ``saved`` (``check_fits``; ``grid`` the network's training
    grid when the file records none) and prepare every composite's input as a trial does."""
    from models.composition import composition_input
    from models.train import prepare

    ds = open_source(dataset)
    name = name or str(dataset)
    grid = saved.grid or grid or tuple(ds.train_grid)
    check_fits(ds, name, saved, grid)
    try:
        _, samples, x = prepare(saved.config, ds, device or torch.device("cpu"),
                                require_label=False)
        comp = composition_input(saved.config.model.head, samples.composites, x.device)
    except ValueError as exc:  # e.g. input_units=voxel without the cells' volumes
        raise Refused(f"{name}: {exc}") from exc
    return Inputs(samples, x, dict(samples.dropped), comp)


def _outputs(model: torch.nn.Module, x: torch.Tensor, batch_size: int,
             composition: torch.Tensor | None = None) -> torch.Tensor:
    """(S, num_outputs) raw network outputs, ``batch_size`` composites at a time."""
    def part(t: torch.Tensor | None, i: int) -> torch.Tensor | None:
        return None if t is None else t[i : i + batch_size]

    with torch.no_grad():
        return torch.cat([model(x[i : i + batch_size], composition=part(composition, i))
                          for i in range(0, len(x), batch_size)])


def network_scores(saved: SavedModel, x: torch.Tensor, batch_size: int | None = None,
                   composition: torch.Tensor | None = None) -> np.ndarray:
    """(S,) float64 predictions for inputs ``x`` (S, C, Nx, Ny, Nz) (and the composites'
    composition encoding (S, W) for a hybrid or composition head): P(class 1) of a classifier
    (the softmax, or the regressed moment against the threshold for classify_by=moment) or the
    value in the target's units (uB, eV or meV per cell)."""
    config = saved.config
    if config.regresses and saved.target_scale is None:
        raise Refused("the model file records no target scale (saved before magvox kept it): "
                      "its regressed output cannot be put back in target units; train it again")
    model = saved.model.to(x.device).eval()
    out = _outputs(model, x, batch_size or config.batch_size, composition)  # (S, 2) or (S, 1)
    score = out[:, 0] if config.regresses else out.softmax(dim=1)[:, 1]
    mean, std = saved.target_scale or (0.0, 1.0)
    threshold = config.moment_threshold_uB if config.classify_by == "moment" else None
    return unscale(config.task, score.double().cpu().numpy(), mean, std, threshold)
