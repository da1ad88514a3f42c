"""Whether a trial can run, asked before it costs anything: the configuration against the data's
grid (``models.trial.validate``) and its training memory (``models.estimate``)."""

from __future__ import annotations

from typing import Any

from models.config import ConfigError
from models.estimate import estimate
from models.trial import TrialConfig, validate


def infeasible_reason(fields: dict[str, Any], grid: tuple[int, int, int], max_memory_mb: float,
                      n_samples: int) -> str | None:
    """None if the trial can run on an untiled ``grid`` within ``max_memory_mb``, else why not.

    Args:
        fields: flat TrialConfig fields (``TrialConfig.from_dict``).
        grid: the dataset's training grid (Nx, Ny, Nz).
        max_memory_mb: the memory a trial may use, MB.
        n_samples: inputs the trial holds in memory (the dataset's samples of its configuration).
    Returns:
        None, or the reason naming the field (``kernel_sizes[0]: kernel 80 is larger than ...``).
    """
    try:
        config = TrialConfig.from_dict(fields)
        validate(config, grid)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        return str(exc)
    memory = estimate(config, grid, n_samples=n_samples).train_memory_mb
    if memory > max_memory_mb:
        return (f"memory: estimated {memory:.0f} MB for training exceeds "
                f"settings.max_memory_mb = {max_memory_mb:.0f} MB")
    return None
