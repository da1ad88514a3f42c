"""One source -> one stored sample (runs inside a Ray task): read, check, regrid, write.

Returns a plain dict ``{"status": "added" | "exists" | "rejected", "path", "reason", "sample_id",
"sha256"}`` so results travel cheaply between processes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep import DEFAULT_MAGNETIZATION
from data_prep.dataset.discover import Source
from data_prep.dataset.regrid import TRAIN_GRID, fourier_regrid
from data_prep.dataset.site_info import header_structure, structure_columns
from data_prep.dataset.store import stored_source, write_sample
from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import read_bytes, sha256_hex
from data_prep.io.outputs import RunOutputs, read_run_json, read_run_outputs
from data_prep.io.run_record import RUN_JSON
from data_prep.io.volumetric import VolumetricData, read_volumetric


@dataclass(frozen=True)
class PrepOptions:
    """magnetization: component of non-collinear data; train_grid: (60, 60, 120) by default."""

    magnetization: str = DEFAULT_MAGNETIZATION
    train_grid: tuple[int, ...] = TRAIN_GRID
    store_total: bool = False
    store_train: bool = True  # False: native grids only (compact; train grid computed on read)


def _sample_id(composite: str, configuration: str, sha: str) -> str:
    raw = f"{composite}_{configuration}_{sha[:10]}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", raw)


def _spin_of(vol: VolumetricData, configuration: str | None) -> np.ndarray:
    """The spin density to store; zeros for an NM run (non-spin-polarized by definition)."""
    if vol.quantity != "density":
        raise MagvoxInputError(vol.source, f"{vol.format} holds a {vol.quantity}, not a density")
    if vol.magnetization_uB_per_A3 is not None:
        return vol.magnetization_uB_per_A3
    if configuration == "NM":
        return np.zeros_like(vol.total_e_per_A3)
    raise MagvoxInputError(vol.source, "no magnetization block (ISPIN=1 file): no spin density")


def _atoms(src: Source, vol: VolumetricData, out: RunOutputs | None) -> dict:
    """The structure columns (data_prep.dataset.site_info) and the per-site moments the run
    reported."""
    folder = None if src.kind == "file" else src.path
    structure = header_structure(vol.structure, vol.species_known, folder)
    sites = out.site_moments_uB if out else None
    if structure is None or (sites is not None and len(sites) != len(structure)):
        sites = None  # moments of unknown atoms, or of another cell, say nothing per site
    return {**structure_columns(structure), "site_moments_reported_uB": sites}


def _row(src: Source, vol: VolumetricData, out: RunOutputs | None, spin: np.ndarray,
         store: str) -> dict:
    formula = vol.structure.composition.reduced_formula
    composite = src.composite or (out and out.composite) or formula
    configuration = src.configuration or (out and out.configuration) or "unknown"
    st = os.stat(vol.source)
    integral = float(spin.sum() * vol.volume_A3 / spin.size)
    return {
        "sample_id": _sample_id(composite, configuration, vol.sha256),
        "composite": composite,
        "configuration": configuration,
        "formula": vol.formula,
        "source": stored_source(store, vol.source),
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "sha256": vol.sha256,
        "format": vol.format,
        "native_grid": "x".join(map(str, vol.grid)),
        "lattice_A": [float(x) for x in vol.lattice.ravel()],
        "volume_A3": vol.volume_A3,
        "electrons": vol.electrons(),
        "moment_uB": integral,
        "abs_moment_uB": float(np.abs(spin).sum() * vol.volume_A3 / spin.size),
        "moment_reported_uB": out.moment_uB if out else None,
        "energy_eV": out.energy_eV if out else None,
        "spin_kind": vol.spin_kind,
        "magnetization_component": vol.magnetization_component,
        **_atoms(src, vol, out),
    }


def _outputs(src: Source) -> RunOutputs | None:
    if src.kind == "file":
        return None
    return read_run_outputs(src.path)


def _check_run(src: Source) -> None:
    if src.kind == "magvox":
        meta = read_run_json(Path(src.path) / RUN_JSON)
        if meta.status != "ok":
            raise MagvoxInputError(src.path, f"run status {meta.status!r}: {meta.reason}")
    if src.volumetric is None:
        raise MagvoxInputError(src.path, "run folder has no CHGCAR")


def process_source(src: Source, store: str, known: set[str], opts: PrepOptions) -> dict:
    """Read ``src`` and add it to ``store`` unless its content hash is in ``known``."""
    result = {"status": "rejected", "path": src.volumetric or src.path, "reason": None,
              "sample_id": None, "sha256": None}
    try:
        _check_run(src)
        sha = sha256_hex(read_bytes(src.volumetric))  # type: ignore[arg-type]
        result["sha256"] = sha
        if sha in known:
            return {**result, "status": "exists"}
        vol = read_volumetric(src.volumetric, magnetization=opts.magnetization)  # type: ignore[arg-type]
        spin = _spin_of(vol, src.configuration)
        row = _row(src, vol, _outputs(src), spin, store)
        train = fourier_regrid(spin, tuple(opts.train_grid)) if opts.store_train else None
        total = vol.total_e_per_A3 if opts.store_total else None
        added = write_sample(store, row["sample_id"], row, spin, train, total)
        return {**result, "status": "added" if added else "exists", "sample_id": row["sample_id"]}
    except MagvoxInputError as exc:
        return {**result, "reason": exc.reason if exc.path == result["path"] else str(exc)}
    except Exception as exc:  # a reader bug must not kill the batch; say what it was
        return {**result, "reason": f"unexpected {type(exc).__name__}: {exc}"}
