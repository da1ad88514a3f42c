"""Several Zarr stores read as one dataset, listed in a small YAML file.

    # data/cgt.yaml: the composites of Table 1, one store per chalcogen
    stores: [cgt_te.zarr, cgt_se.zarr]      # paths relative to this file

The view has the members of ``data_prep.dataset.store.MagDataset`` (``index``, ``labels``, ``spin``,
``total``, ``train_grid``, ``test_composites``), so models and search take it wherever they take a
store. Each store keeps its own recorded test split; the union is the dataset's test split, which is
then stratified by X as well as by label. A composite may live in one store only.

    # an outer fold of a nested cross-validation (``search.evaluation.assess`` writes such files)
    stores: [/abs/cgt_te.zarr, /abs/cgt_se.zarr, /abs/cgt_s.zarr]
    test_composites: [CrVGe2Te6, CrNiSi2Se6, ...]   # held out instead of the stores' own splits

``test_composites`` replaces the stores' recorded test splits (every named composite must be in a
store): the same stores then read as another split without copying a density.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml


class MultiDataset:
    """The union of the stores listed in a YAML file (key ``stores``), each opened by
    ``open_store`` (``data_prep.dataset.store.open_dataset`` passes ``MagDataset``: the store module
    imports this one, never the other way round)."""

    def __init__(self, path: str | Path, open_store: Callable[[Path], Any]) -> None:
        self.path = Path(path)
        self.stores = [open_store(p) for p in self._store_paths()]
        grids = {s.train_grid for s in self.stores}
        if len(grids) != 1:
            raise ValueError(f"{self.path}: the stores have different training grids {grids}")
        self.train_grid = grids.pop()
        self._owner: dict[str, Any] = {}
        for store in self.stores:
            for sid in store.index["sample_id"]:
                self._owner[str(sid)] = store
        self.index = pd.concat([s.index.assign(store=str(s.path)) for s in self.stores],
                               ignore_index=True)
        self.labels = pd.concat([s.labels for s in self.stores], ignore_index=True)
        twice = self.labels["composite"][self.labels["composite"].duplicated()].tolist()
        if twice:
            raise ValueError(f"{self.path}: composites {twice} are in more than one store")
        self._held_out = self._override()

    def _raw(self) -> dict:
        try:
            raw = yaml.safe_load(self.path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{self.path}: cannot read the dataset list: {exc}") from exc
        return raw if isinstance(raw, dict) else {}

    def _override(self) -> list[str] | None:
        """The file's ``test_composites`` (checked against the stores), or None."""
        raw = self._raw()
        if "test_composites" not in raw:
            return None
        names = raw["test_composites"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{self.path}: test_composites must be a list of composite names")
        unknown = sorted(set(names) - set(self.labels["composite"]))
        if unknown:
            raise ValueError(f"{self.path}: test_composites {unknown} are in none of the stores")
        return sorted(names)

    def _store_paths(self) -> list[Path]:
        raw = self._raw()
        stores = raw.get("stores")
        if not stores or not isinstance(stores, list):
            raise ValueError(f"{self.path}: needs a non-empty list `stores: [a.zarr, ...]`")
        paths = [(self.path.parent / str(s)).resolve() for s in stores]
        missing = [str(p) for p in paths if not (p / "zarr.json").is_file()]
        if missing:
            raise ValueError(f"{self.path}: stores {missing} do not exist or are not Zarr stores")
        return paths

    def __len__(self) -> int:
        return len(self.index)

    def _store(self, sample_id: str) -> Any:
        if sample_id not in self._owner:
            raise KeyError(f"{self.path}: no sample {sample_id!r}")
        return self._owner[sample_id]

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Spin density of ``sample_id``, float32 uB/A^3 (see ``MagDataset.spin``)."""
        return self._store(sample_id).spin(sample_id, grid=grid)

    def total(self, sample_id: str) -> np.ndarray | None:
        """Total density on the native grid, e/A^3, or None when it was not stored."""
        return self._store(sample_id).total(sample_id)

    @property
    def overrides_test_split(self) -> bool:
        """Whether the file names its own ``test_composites`` (then the stores' recorded splits,
        and their logs of scorings, are not this dataset's)."""
        return self._held_out is not None

    @property
    def test_composites(self) -> list[str]:
        """The file's ``test_composites``, else the union of the stores' held-out test
        composites."""
        if self._held_out is not None:
            return list(self._held_out)
        return sorted(c for s in self.stores for c in s.test_composites)
