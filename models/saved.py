"""A trained network on disk: weights (with the input scale), the flat trial config, the grid it
was trained on and the scale of its regressed target.

Loading never runs code: ``torch.load(weights_only=True)`` reads tensors and plain containers
only, so a model file from a shared store cannot execute anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from models.net import MagNet
from models.trial import TrialConfig


@dataclass
class SavedModel:
    """A model file read back.

    Attributes:
        model: the network, eval mode, on the CPU; its ``input_scale`` buffer is the one fitted
            on its training composites.
        config: the TrialConfig it was trained with.
        grid: (Nx, Ny, Nz) training grid it was built for; None in files saved before the grid
            was recorded (the network was then rebuilt on the grid the caller passed).
        target_scale: (mean, std) of the regressed target in its units (``models.member.
            unscale``); None in files saved before it was recorded.
    """

    model: MagNet
    config: TrialConfig
    grid: tuple[int, int, int] | None
    target_scale: tuple[float, float] | None


def save_model(state_dict: dict[str, Any], config: TrialConfig, path: str | Path, *,
               grid: tuple[int, int, int] | None = None,
               target_scale: tuple[float, float] | None = None) -> None:
    """Write the weights and the config that rebuilds the network to ``path``, with the training
    ``grid`` (Nx, Ny, Nz) and the regressed target's ``target_scale`` (mean, std) when known."""
    saved: dict[str, Any] = {"state_dict": state_dict, "config": config.to_dict()}
    if grid is not None:
        saved["grid"] = [int(n) for n in grid]
    if target_scale is not None:
        saved["target_scale"] = [float(v) for v in target_scale]
    torch.save(saved, Path(path))


def read_saved(path: str | Path) -> dict[str, Any]:
    """The file's plain contents (``state_dict``, ``config`` and, where recorded, ``grid`` and
    ``target_scale``); ValueError naming the file when it is not a magvox model file."""
    try:
        saved = torch.load(Path(path), map_location="cpu", weights_only=True)
        TrialConfig.from_dict(saved["config"])
        if not isinstance(saved.get("state_dict"), dict):
            raise KeyError("state_dict")
    except Exception as exc:  # unpickling refused, truncated file, missing keys
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: not a magvox model file ({first[:200]})") from exc
    return saved


def load_saved(path: str | Path, grid: tuple[int, int, int] | None = None) -> SavedModel:
    """The model file at ``path``; the network is built on its recorded grid, else on ``grid``
    (ValueError when it records none and none is given, or its weights do not fit)."""
    saved = read_saved(path)
    config = TrialConfig.from_dict(saved["config"])
    recorded = tuple(saved["grid"]) if "grid" in saved else None
    build = recorded or grid
    if build is None:
        raise ValueError(f"{path}: the file records no training grid; give the grid")
    model = MagNet(config.model_config(), build)
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise ValueError(f"{path}: the weights do not fit a {'x'.join(map(str, build))} grid "
                         f"({first})") from exc
    scale = tuple(saved["target_scale"]) if "target_scale" in saved else None
    return SavedModel(model.eval(), config, recorded, scale)  # type: ignore[arg-type]


def load_model(path: str | Path, grid: tuple[int, int, int]) -> tuple[MagNet, TrialConfig]:
    """The network saved by ``save_model`` (eval mode, on the CPU) and its TrialConfig."""
    saved = load_saved(path, grid)
    return saved.model, saved.config
