"""The dataset shared once per node.

The driver reads the Zarr store once into a ``SharedDataset`` (index, labels and the training-grid
spin densities of the configurations the space can use). ``tune.with_parameters`` puts it in
Ray's object store once; each node holds one copy and every trial on it maps the arrays without
copying or re-reading the store (Ray deserialises numpy arrays zero-copy). The object has the
``.index``, ``.labels``, ``.spin`` members that models' ``run_trial`` accepts in place of a path,
so it works on nodes that cannot see the driver's file system.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class SharedDataset:
    """An in-memory read view of the dataset (the subset of samples a search can use).

    Attributes:
        path: the store it came from (for the record).
        index: one row per kept sample (docs/CONTRACTS.md index columns).
        labels: one row per composite.
        spins: sample_id -> float32 (Nx, Ny, Nz) magnetization density on the training grid,
            uB/A^3, [i, j, k] along a, b, c.
        train_grid: (Nx, Ny, Nz).
        test_composites: the dataset's held-out test split (no trial may train or select on it).
    """

    path: str
    index: pd.DataFrame
    labels: pd.DataFrame
    spins: dict[str, np.ndarray]
    train_grid: tuple[int, int, int]
    test_composites: list[str]

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Training-grid spin density of ``sample_id`` (only the training grid is kept)."""
        if grid != "train":
            raise ValueError(f"shared dataset keeps the training grid only, not {grid!r}")
        return self.spins[sample_id]

    def samples_per_configuration(self) -> dict[str, int]:
        """DFT configuration -> number of samples kept (what a trial holds in memory)."""
        return {str(k): int(v) for k, v in self.index["configuration"].value_counts().items()}

    @property
    def nbytes(self) -> int:
        """Bytes held by the density arrays."""
        return sum(a.nbytes for a in self.spins.values())


def load_shared(path: str | Path, configurations: Iterable[str] = ("FM",)) -> SharedDataset:
    """Read the store at ``path`` once, keeping the samples of ``configurations``."""
    from data_prep.dataset.store import open_dataset

    path = Path(path)
    ds = open_dataset(path)
    wanted = set(configurations)
    index = ds.index[ds.index["configuration"].astype(str).isin(wanted)].reset_index(drop=True)
    spins = {sid: ds.spin(sid, grid="train") for sid in index["sample_id"]}
    return SharedDataset(str(path), index, ds.labels, spins, tuple(ds.train_grid),
                         list(ds.test_composites))


def configurations_of(space: dict) -> list[str]:
    """DFT configurations whose densities a space's trials read (``configuration`` field; a value
    such as ``FM+AFM-Neel`` reads each named run), each once, in order of first mention."""
    fixed = space.get("fixed", {})
    param = space.get("params", {}).get("configuration")
    values = param["choices"] if param else [fixed.get("configuration", "FM")]
    names = [name for value in values for name in str(value).split("+")]
    return list(dict.fromkeys(names))
