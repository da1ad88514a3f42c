"""A trial's files for MLflow: first-layer filters as arrays and pictures, and its result JSON.

Pictures follow the original visualizer: for each filter and input channel, the mean of the
kernel along each axis (a, b, c), so the in-plane (mean along c) image shows the honeycomb
exchange paths and the other two show their extent across the layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

AXES = ("a", "b", "c")
CHANNEL_NAMES = {2: ("max(m,0)", "max(-m,0)"), 1: ("m",)}


def save_filters(weights: np.ndarray, folder: Path) -> list[Path]:
    """Write ``filters.npy`` (F, C, kx, ky, kz) and one PNG per filter; return the files written.

    Args:
        weights: first-layer kernels, shape (filters, channels, kx, ky, kz), along a, b, c.
        folder: existing folder to write into (the trial's checkpoint folder).
    """
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 5:
        raise ValueError(f"filters: expected (F, C, kx, ky, kz), got shape {weights.shape}")
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "filters.npy"]
    np.save(files[0], weights)
    for f in range(weights.shape[0]):
        path = folder / f"filter_{f}.png"
        plot_filter(weights[f], f"filter {f}", path)
        files.append(path)
    return files


def axis_means(kernel: np.ndarray) -> list[np.ndarray]:
    """The three projections of one (kx, ky, kz) kernel: mean along a, along b, along c."""
    return [kernel.mean(axis=i) for i in range(3)]


def plot_filter(filt: np.ndarray, title: str, path: Path) -> None:
    """One figure: rows = input channels, columns = mean along a, b, c (shared colour scale).

    Axis ticks are left out: they cost most of matplotlib's drawing time, and a trial's pictures
    are made inside the trial (measured in the service overhead, BENCHMARKS.md).
    """
    from matplotlib.figure import Figure

    channels = filt.shape[0]
    names = CHANNEL_NAMES.get(channels, tuple(f"ch{c}" for c in range(channels)))
    vmax = float(np.abs(filt).max()) or 1.0
    fig = Figure(figsize=(7.5, 2.4 * channels + 0.4))
    axes = fig.subplots(channels, 3, squeeze=False)
    for c in range(channels):
        for i, proj in enumerate(axis_means(filt[c])):
            ax = axes[c][i]
            image = ax.imshow(proj.T, origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                              interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{names[c]}, mean along {AXES[i]}", fontsize=8)
            others = [a for j, a in enumerate(AXES) if j != i]
            ax.set_xlabel(others[0], fontsize=8, labelpad=1)
            ax.set_ylabel(others[1], fontsize=8, labelpad=1)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title)
    fig.savefig(path, dpi=80)


def write_json(path: Path, data: Any) -> None:
    """JSON with numpy scalars and arrays turned into plain numbers and lists."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, tuple | set):
            return list(value)
        return str(value)

    path.write_text(json.dumps(data, indent=2, default=plain))
