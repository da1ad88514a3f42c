"""A trained network on disk: weights (with the input scale) and the flat trial config.

Loading never runs code: ``torch.load(weights_only=True)`` reads tensors and plain containers
only, so a model file from a shared store cannot execute anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from models.net import MagNet
from models.trial import TrialConfig


def save_model(state_dict: dict[str, Any], config: TrialConfig, path: str | Path) -> None:
    """Write the weights and the config that rebuilds the network to ``path``."""
    torch.save({"state_dict": state_dict, "config": config.to_dict()}, Path(path))


def load_model(path: str | Path, grid: tuple[int, int, int]) -> tuple[MagNet, TrialConfig]:
    """The network saved by ``save_model`` (eval mode, on the CPU) and its TrialConfig."""
    try:
        saved = torch.load(Path(path), map_location="cpu", weights_only=True)
        config = TrialConfig.from_dict(saved["config"])
    except Exception as exc:  # unpickling refused, truncated file, missing keys
        raise ValueError(f"{path}: not a magvox model file ({exc})") from exc
    model = MagNet(config.model_config(), grid)
    model.load_state_dict(saved["state_dict"])
    return model.eval(), config
