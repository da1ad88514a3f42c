"""The dataset shared once per node.

The driver makes a ``DatasetHandle``: the Zarr store's path and fingerprint and, for clusters
whose nodes may not see that path, the store packed as one Ray object (``ray.put`` once; Ray moves
it to each node once). A trial calls ``local_path``: the original path if this node sees it,
else a node-local copy unpacked once per node under a file lock and reused by later trials.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE = Path(tempfile.gettempdir()) / "magvox-datasets"


@dataclass(frozen=True)
class DatasetHandle:
    """What every trial receives: path, fingerprint, and optionally the packed store's ObjectRef."""

    path: str
    fingerprint: str
    packed: Any = None


def fingerprint(path: Path) -> str:
    """A short hash of the store's file names, sizes and modification times."""
    digest = hashlib.sha1()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def pack(path: Path) -> bytes:
    """The store as an uncompressed tar (Zarr chunks are already compressed)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(path, arcname=path.name)
    return buf.getvalue()


def make_handle(path: str | Path, ship: bool) -> DatasetHandle:
    """A handle for ``path``; with ``ship`` the packed store is put in Ray's object store once."""
    path = Path(path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"dataset {path} does not exist (make it with `magvox prep`)")
    packed = None
    if ship:
        import ray

        packed = ray.put(pack(path))
    return DatasetHandle(str(path), fingerprint(path), packed)


def local_path(handle: DatasetHandle) -> Path:
    """The dataset on this node: the original path if visible, else the node-local copy."""
    path = Path(handle.path)
    if path.exists() or handle.packed is None:
        return path
    import ray

    def fetch() -> bytes:
        return ray.get(handle.packed)

    return unpack_once(handle.fingerprint, path.name, fetch)


def unpack_once(key: str, name: str, fetch: Any, cache: Path = CACHE) -> Path:
    """Unpack ``fetch()`` (tar bytes) into ``cache/key`` unless another trial already did."""
    target = cache / key
    done = target / ".complete"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            with tarfile.open(fileobj=io.BytesIO(fetch()), mode="r") as tar:
                tar.extractall(target, filter="data")
            done.write_text(str(os.getpid()))
    return target / name
