"""Whether a trial can run, asked before it costs anything: the configuration against the data's
grid (``models.trial.validate``), its training memory and its training FLOPs
(``models.estimate``)."""

from __future__ import annotations

from typing import Any

from models.config import ConfigError
from models.estimate import estimate
from models.trial import TrialConfig, validate


def infeasible_reason(fields: dict[str, Any], grid: tuple[int, int, int], max_memory_mb: float,
                      n_samples: int, max_train_tflop: float = 0.0) -> str | None:
    """None if the trial can run on an untiled ``grid`` within ``max_memory_mb`` (and, when
    ``max_train_tflop`` > 0, within that many TFLOP of training), else why not.

    Args:
        fields: flat TrialConfig fields (``TrialConfig.from_dict``).
        grid: the dataset's training grid (Nx, Ny, Nz).
        max_memory_mb: the memory a trial may use, MB.
        n_samples: inputs the trial holds in memory (the dataset's samples of its configuration).
        max_train_tflop: the compute a trial may use, TFLOP over all its folds and epochs
            (0: no limit). On 2 CPU cores ~30 GFLOP/s: 20 TFLOP is ~10 minutes; a 24^3 direct
            conv on the tiled 120^3 input is ~300 TFLOP (hours here, seconds on a GPU).
    Returns:
        None, or the reason naming the field (``kernel_sizes[0]: kernel 80 is larger than ...``).
    """
    try:
        config = TrialConfig.from_dict(fields)
        validate(config, grid)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        return str(exc)
    est = estimate(config, grid, n_samples=n_samples)
    if est.train_memory_mb > max_memory_mb:
        return (f"memory: estimated {est.train_memory_mb:.0f} MB for training exceeds "
                f"settings.max_memory_mb = {max_memory_mb:.0f} MB")
    if max_train_tflop > 0 and est.train_tflop > max_train_tflop:
        return (f"compute: estimated {est.train_tflop:.1f} TFLOP for training ({config.epochs} "
                f"epochs x {max(config.folds, 1)} folds) exceeds settings.max_train_tflop = "
                f"{max_train_tflop:g}")
    return None
