"""The one place search meets models: config building, feasibility, one trial, results.

models knows nothing of Ray or MLflow; this adapter turns a search's plain-data fields into
``models.trial.TrialConfig``, asks models whether a configuration can run (``validate`` and the
memory estimate), runs ``run_trial`` and reads its ``TrialResult``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.config import ConfigError

__all__ = ["ConfigError", "infeasible_reason", "run", "save_model", "summarize"]


def trial_config(fields: dict[str, Any]) -> Any:
    """``TrialConfig.from_dict(fields)`` (preset + overrides)."""
    from models.trial import TrialConfig

    return TrialConfig.from_dict(fields)


def estimated_memory_mb(config: Any, grid: tuple[int, int, int],
                        n_samples: int = 62) -> float | None:
    """Training memory of one trial on ``n_samples`` inputs per models' estimate (MB), or None
    if models has none."""
    try:
        from models import estimate
    except ImportError:
        return None
    report = estimate.estimate(config, grid, n_samples=n_samples)
    value = getattr(report, "train_memory_mb", None)
    if value is None and isinstance(report, dict):
        value = report.get("train_memory_mb")
    return None if value is None else float(value)


def infeasible_reason(fields: dict[str, Any], grid: tuple[int, int, int],
                      max_memory_mb: float, n_samples: int = 62) -> str | None:
    """None if the trial can run on ``grid`` within ``max_memory_mb``, else why not.

    ``n_samples`` is the number of inputs the trial holds in memory (the dataset's samples of the
    trial's DFT configuration).

    The reason names the field (``kernel_sizes[0]: kernel 80 is larger than its input ...``).
    """
    from models.trial import validate

    try:
        config = trial_config(fields)
        validate(config, grid)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        return str(exc)
    memory = estimated_memory_mb(config, grid, n_samples)
    if memory is not None and memory > max_memory_mb:
        return (f"memory: estimated {memory:.0f} MB for training exceeds "
                f"settings.max_memory_mb = {max_memory_mb:.0f} MB")
    return None


def run(fields: dict[str, Any], dataset: Any, on_epoch: Callable[[dict[str, float]], None],
        checkpoint_dir: Path | None = None, device: str = "cpu") -> Any:
    """Train one trial with models' ``run_trial`` (resuming from ``checkpoint_dir`` if it holds
    a checkpoint) on ``device``; ``dataset`` is a path or ``search.data.SharedDataset``."""
    from models.train import run_trial

    return run_trial(trial_config(fields), dataset, on_epoch=on_epoch,
                     checkpoint_dir=checkpoint_dir, device=device)


def summarize(result: Any) -> dict[str, Any]:
    """A TrialResult as plain data: history, final and baseline metrics (flat), filters."""
    baselines = {f"baseline_{name}_{k}": v for name, values in result.baselines.items()
                 for k, v in values.items()}
    return {
        "history": [dict(h) for h in result.history],
        "final": {f"final_{k}": v for k, v in result.final.items()},
        "baselines": baselines,
        "filters": np.asarray(result.filters),
        "epochs": len(result.history),
        "train_s": float(result.seconds),
        "diverged": bool(result.diverged),
    }


def save_model(result: Any, path: Path) -> None:
    """Save the trained weights and the config that rebuilds the network."""
    import torch

    torch.save({"state_dict": result.state_dict, "config": result.config.to_dict()}, path)


def load_model(path: Path, grid: tuple[int, int, int]) -> Any:
    """Rebuild the network saved by ``save_model`` (for logging the best model)."""
    import torch

    from models.net import MagNet

    saved = torch.load(path, map_location="cpu", weights_only=False)
    model = MagNet(trial_config(saved["config"]).model_config(), grid)
    model.load_state_dict(saved["state_dict"])
    return model.eval()
