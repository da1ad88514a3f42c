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


def save_filters(weights: np.ndarray, folder: Path, pictures: bool = True) -> list[Path]:
    """Write ``filters.npy`` (F, C, kx, ky, kz) and, with ``pictures``, one PNG per filter;
    return the files written.

    Args:
        weights: first-layer kernels, shape (filters, channels, kx, ky, kz), along a, b, c.
        folder: existing folder to write into (the trial's checkpoint folder).
        pictures: also draw ``filter_<f>.png`` (``filter_pictures``).
    """
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 5:
        raise ValueError(f"filters: expected (F, C, kx, ky, kz), got shape {weights.shape}")
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "filters.npy"]
    np.save(files[0], weights)
    if pictures:
        files += filter_pictures(weights, folder)
    return files


def filter_pictures(weights: np.ndarray, folder: Path) -> list[Path]:
    """Draw ``filter_<f>.png`` for each filter of ``weights`` (F, C, kx, ky, kz) into ``folder``."""
    files = []
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

    Args:
        filt: one filter's kernels, shape (channels, kx, ky, kz), along a, b, c.
        title: the figure title.
        path: the PNG to write.

    All panels go on one bare Axes (images placed by extent, labels as text): axes and ticks
    are what costs matplotlib time, and a trial's pictures are part of the service overhead
    (BENCHMARKS.md). The colour scale spans the projections, not the raw weights, so the
    pattern stays visible.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    channels = filt.shape[0]
    names = CHANNEL_NAMES.get(channels, tuple(f"ch{c}" for c in range(channels)))
    panels = [[proj.T for proj in axis_means(filt[c])] for c in range(channels)]  # (rows, cols)
    vmax = max(float(np.abs(p).max()) for row in panels for p in row) or 1.0
    k = max(max(p.shape) for row in panels for p in row)
    pitch, pad = 1.55 * k, 0.06 * k
    fig = Figure(figsize=(7.5, 2.4 * channels + 0.4))
    ax = fig.add_axes((0.03, 0.03, 0.8, 0.86))
    ax.set_axis_off()
    for c, row in enumerate(panels):
        y0 = (channels - 1 - c) * pitch
        for i, proj in enumerate(row):
            x0, (ny, nx) = i * pitch, proj.shape
            image = ax.imshow(proj, origin="lower", extent=(x0, x0 + nx, y0, y0 + ny),
                              cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.add_patch(Rectangle((x0, y0), nx, ny, fill=False, linewidth=0.8))
            across, up = (a for j, a in enumerate(AXES) if j != i)
            ax.text(x0 + nx / 2, y0 + ny + pad, f"{names[c]}, mean along {AXES[i]}",
                    ha="center", va="bottom", fontsize=8)
            ax.text(x0 + nx / 2, y0 - pad, across, ha="center", va="top", fontsize=8)
            ax.text(x0 - pad, y0 + ny / 2, up, ha="right", va="center", fontsize=8)
    ax.set_xlim(-0.25 * k, 2 * pitch + k)
    ax.set_ylim(-0.3 * k, (channels - 1) * pitch + 1.3 * k)
    ax.set_aspect("equal")
    fig.colorbar(image, ax=ax, shrink=0.8, label="weight, mean along the axis")
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
