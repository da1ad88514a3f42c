"""DFT outputs -> the shared Zarr dataset, and the embedded DFT generator. No magvox imports.

The two constants here are the one source of each (plain Python: the CLI reads them for its
defaults without importing numpy).
"""

from pathlib import Path

# the training grid every sample is Fourier-regridded to, points along a, b, c
TRAIN_GRID: tuple[int, int, int] = (60, 60, 120)
# the bundled dataset (the X = Te composites of Table 1), usable from any working directory;
# data/cgt.yaml lists every chalcogen computed so far as one dataset
BUNDLED_DATASET = Path(__file__).resolve().parents[1] / "data" / "cgt_te.zarr"
