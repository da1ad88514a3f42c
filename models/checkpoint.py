"""Atomic per-epoch checkpoints, loadable with ``torch.load(..., weights_only=True)``.

A checkpoint holds the model and optimizer states, the flat trial config, the epoch reached and the
history so far: enough to resume a killed trial at the next epoch with identical results (the
batch order of epoch e depends only on the seed and e).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FILENAME = "checkpoint.pt"


def checkpoint_path(directory: str | Path) -> Path:
    """The checkpoint file inside a trial's checkpoint folder."""
    return Path(directory) / FILENAME


def save_checkpoint(directory: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to directory/checkpoint.pt atomically (temp file, fsync, rename)."""
    path = checkpoint_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(directory: str | Path) -> dict[str, Any] | None:
    """The saved state, or None when the folder holds no checkpoint yet."""
    path = checkpoint_path(directory)
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)
