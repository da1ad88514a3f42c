"""The shared Zarr v3 dataset (docs/CONTRACTS.md): one group per sample, index and label tables.

    DS.zarr/  attrs {"magvox_schema": 1, "train_grid": [60, 60, 120]}
      samples/<sample_id>/  attrs = index row; arrays spin_native, spin, total_native (optional)
      index.parquet  labels.parquet   (caches, rebuilt from the sample attrs when stale)
      exchange.csv   (optional) J1-J3 table of data_prep.analysis.exchange_labels, merged into the
      labels

Densities are float32, uB/A^3 (spin) and e/A^3 (total), [i, j, k] along a, b, c, one chunk per
array, Blosc-zstd with byte shuffle (lossless). A sample is written in ``_tmp/`` and renamed into
``samples/`` in one ``os.rename``: after a kill -9 the store holds only complete samples.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import zarr
from zarr.codecs import BloscCodec

from data_prep.dataset.holdout import holdout_composites, update_holdout
from data_prep.dataset.labels import compute_labels
from data_prep.dataset.multi import MultiDataset
from data_prep.dataset.regrid import TRAIN_GRID, fourier_regrid

SCHEMA = 1
_COMPRESSOR = BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")
_TMP = "_tmp"
EXCHANGE_CSV = "exchange.csv"


def create_store(path: str | Path, train_grid: tuple[int, int, int] = TRAIN_GRID) -> Path:
    """Create the store (or check an existing one has the same schema and training grid)."""
    path = Path(path)
    if (path / "zarr.json").is_file():
        attrs = zarr.open_group(str(path), mode="r").attrs.asdict()
        if attrs.get("magvox_schema") != SCHEMA or list(attrs.get("train_grid", [])) != list(
            train_grid
        ):
            raise ValueError(f"{path}: existing store has {attrs}, wanted train_grid {train_grid}")
    else:
        root = zarr.open_group(str(path), mode="w")
        root.attrs.update({"magvox_schema": SCHEMA, "train_grid": list(train_grid)})
        root.create_group("samples")
    shutil.rmtree(path / _TMP, ignore_errors=True)  # partial samples of a killed run
    return path


def _array(group: zarr.Group, name: str, values: np.ndarray) -> None:
    values = np.ascontiguousarray(values, dtype=np.float32)
    arr = group.create_array(name, shape=values.shape, dtype="float32", chunks=values.shape,
                             compressors=_COMPRESSOR, dimension_names=["a", "b", "c"])
    arr[...] = values


def write_sample(
    path: str | Path,
    sample_id: str,
    row: dict,
    spin_native: np.ndarray,
    spin_train: np.ndarray | None,
    total_native: np.ndarray | None = None,
) -> bool:
    """Write one sample atomically; False (and nothing written) when it already exists.

    row: the index row (JSON-serialisable). Arrays: (Nx, Ny, Nz) native and train-grid densities;
    ``spin_train`` None stores the native grid only (the training grid is then computed on read).
    """
    path = Path(path)
    final = path / "samples" / sample_id
    if final.exists():
        return False
    tmp = path / _TMP / f"{sample_id}.{uuid.uuid4().hex[:8]}"
    group = zarr.open_group(str(tmp), mode="w", attributes=row)
    _array(group, "spin_native", spin_native)
    if spin_train is not None:
        _array(group, "spin", spin_train)
    if total_native is not None:
        _array(group, "total_native", total_native)
    try:
        os.rename(tmp, final)
    except OSError:  # another worker won the race with the same content
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True


def remove_sample(path: str | Path, sample_id: str) -> None:
    """Take a sample out of the store atomically (renamed out of ``samples/``, then deleted)."""
    path = Path(path)
    final = path / "samples" / sample_id
    if not final.exists():
        return
    doomed = path / _TMP / f"{sample_id}.removed-{uuid.uuid4().hex[:8]}"
    doomed.parent.mkdir(parents=True, exist_ok=True)
    os.rename(final, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def sample_rows(path: str | Path) -> list[dict]:
    """The attrs of every complete sample (read straight from each group's zarr.json)."""
    samples = Path(path) / "samples"
    rows = []
    for entry in sorted(os.scandir(samples), key=lambda e: e.name) if samples.is_dir() else []:
        meta = Path(entry.path) / "zarr.json"
        if entry.is_dir() and meta.is_file():
            rows.append(json.loads(meta.read_text()).get("attributes", {}))
    return rows


def _write_parquet(df: pd.DataFrame, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, target)


def read_exchange(path: str | Path) -> pd.DataFrame | None:
    """The store's J1-J3 table (``exchange.csv``), or None."""
    csv = Path(path) / EXCHANGE_CSV
    return pd.read_csv(csv) if csv.is_file() else None


def attach_exchange(path: str | Path, table: pd.DataFrame) -> None:
    """Store the J1-J3 table (``data_prep.analysis.exchange_labels``) in the dataset; relabel it."""
    path = Path(path)
    if not (path / "zarr.json").is_file():
        raise ValueError(f"{path}: not a magvox dataset (no zarr.json)")
    tmp = path / f".{EXCHANGE_CSV}.{uuid.uuid4().hex[:8]}"
    table.to_csv(tmp, index=False)
    os.replace(tmp, path / EXCHANGE_CSV)
    rebuild_tables(path)


def read_index(path: str | Path) -> pd.DataFrame:
    """The index as the sample attrs say (one row per sample, sorted by sample_id)."""
    index = pd.DataFrame(sample_rows(path))
    return index.sort_values("sample_id").reset_index(drop=True) if not index.empty else index


def rebuild_index(path: str | Path) -> pd.DataFrame:
    """Rewrite index.parquet alone from the sample attrs (atomic); returns the index."""
    index = read_index(path)
    _write_parquet(index, Path(path) / "index.parquet")
    return index


def update_sample_attrs(path: str | Path, sample_id: str, values: dict) -> None:
    """Merge ``values`` (JSON-serialisable) into one sample's index row, in place and atomically
    (its group's zarr.json is rewritten by a rename; no array is touched)."""
    meta_path = Path(path) / "samples" / sample_id / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"] = {**meta.get("attributes", {}), **values}
    tmp = meta_path.with_name(f".zarr.json.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, meta_path)


def stored_source(store: str | Path, source: str | Path) -> str:
    """How a sample records its source file: relative to the store's parent folder when the file
    lies under it (``campaign/CrVGe2Te6/FM/CHGCAR`` for ``data/cgt_te.zarr``: a clone elsewhere
    reads the same), else the absolute path. POSIX separators."""
    file, parent = Path(source).resolve(), Path(store).resolve().parent
    return file.relative_to(parent).as_posix() if file.is_relative_to(parent) else str(file)


def resolve_source(store: str | Path, source: str) -> str:
    """The absolute path of a recorded source (``stored_source``); absolute records (stores
    made before sources were relative) are returned as they are."""
    if os.path.isabs(source):
        return source
    return os.path.normpath(Path(store).resolve().parent / source)


def rebuild_tables(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rewrite index.parquet and labels.parquet from the sample attrs; returns (index, labels)."""
    path = Path(path)
    index = read_index(path)
    labels = compute_labels(index, exchange=read_exchange(path))
    _write_parquet(index, path / "index.parquet")
    _write_parquet(labels, path / "labels.parquet")
    if not labels.empty:
        update_holdout(path, labels)  # new composites join the recorded test split
    return index, labels


class MagDataset:
    """A read view of the store. ``index``: one row per sample; ``labels``: one per composite."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.root = zarr.open_group(str(self.path), mode="r")
        self.attrs = self.root.attrs.asdict()
        if self.attrs.get("magvox_schema") != SCHEMA:
            raise ValueError(f"{self.path}: not a magvox dataset (attrs {self.attrs})")
        self.train_grid = tuple(self.attrs["train_grid"])
        self.index, self.labels = self._tables()

    def _tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        ids = sorted(e.name for e in os.scandir(self.path / "samples") if e.is_dir())
        try:
            index = pd.read_parquet(self.path / "index.parquet")
            labels = pd.read_parquet(self.path / "labels.parquet")
            if sorted(index.get("sample_id", [])) == ids:
                return index, labels
        except (OSError, ValueError):
            pass
        index = read_index(self.path)  # stale cache (e.g. killed run): rebuild
        return index, compute_labels(index, exchange=read_exchange(self.path))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def test_composites(self) -> list[str]:
        """The held-out test composites (``holdout.json``; data_prep.dataset.holdout): never
        trained on."""
        return holdout_composites(self.path, self.labels)

    def _read(self, sample_id: str, name: str) -> np.ndarray:
        return np.asarray(self.root[f"samples/{sample_id}/{name}"][...], dtype=np.float32)

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Spin density, float32 uB/A^3: (60, 60, 120) for "train", (Nx, Ny, Nz) for "native".

        A store prepared with ``--native-only`` keeps no training grid: it is Fourier-regridded
        from the native grid here (~30 ms a sample, moment preserved).
        """
        if grid not in ("train", "native"):
            raise ValueError(f"grid must be 'train' or 'native', not {grid!r}")
        if grid == "native":
            return self._read(sample_id, "spin_native")
        if f"samples/{sample_id}/spin" in self.root:
            return self._read(sample_id, "spin")
        native = self._read(sample_id, "spin_native").astype(np.float64)
        return fourier_regrid(native, self.train_grid).astype(np.float32)

    def total(self, sample_id: str) -> np.ndarray | None:
        """Total density on the native grid, float32 e/A^3, or None when it was not stored."""
        if f"samples/{sample_id}/total_native" not in self.root:
            return None
        return self._read(sample_id, "total_native")


def open_dataset(path: str | Path):
    """Open a magvox dataset for reading: a Zarr store, or a YAML file listing several stores
    that read as one (``data_prep.dataset.multi``; e.g. the three chalcogens of Table 1)."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        return MultiDataset(path, MagDataset)
    if not path.exists():
        raise FileNotFoundError(f"dataset {path} does not exist (make it with `magvox prep`)")
    return MagDataset(path)
