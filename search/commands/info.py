"""Summary of a volumetric file, a run folder or a magvox dataset.

Volumetric files (CHGCAR, CHG, PARCHG, AECCAR*, LOCPOT, ELFCAR, cube; plain/.gz/.bz2/.xz): format,
formula, lattice (A), grid, spin kind, electrons (integral of the total density), moment and
abs_moment (integrals of m and |m|, uB). Run folders add energy_eV and moment_reported (uB) from
magvox_run.json / OUTCAR / OSZICAR / vasprun.xml. Datasets: samples, composites, configurations,
grid shapes and label counts. ``--json`` prints one object with all keys (null where n/a).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from data_prep import CLASS_TARGETS, DEFAULT_MAGNETIZATION, MAGNETIZATION_CHOICES

KEYS = ("format", "formula", "lattice", "grid", "spin_kind", "electrons", "moment", "abs_moment",
        "energy_eV", "moment_reported", "samples", "composites", "configurations", "grid_shapes",
        "label_counts", "test_composites", "per_x")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox info``."""
    parser.add_argument("path", help="volumetric file, run folder, DS.zarr or a YAML list of "
                                     "stores (data/cgt.yaml)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--magnetization", default=DEFAULT_MAGNETIZATION,
                        choices=MAGNETIZATION_CHOICES,
                        help="spin density of non-collinear files (default m_%(default)s)")


def _volumetric(path: Path, magnetization: str) -> dict[str, Any]:
    from data_prep.io.volumetric import read_volumetric

    vol = read_volumetric(path, magnetization=magnetization)
    return {"format": vol.format, "formula": vol.formula,
            "lattice": [[round(float(x), 10) for x in row] for row in vol.lattice],
            "grid": list(vol.grid), "spin_kind": vol.spin_kind, "electrons": vol.electrons(),
            "moment": vol.moment(), "abs_moment": vol.abs_moment()}


def _run_folder(path: Path, magnetization: str) -> dict[str, Any]:
    from data_prep.errors import MagvoxInputError
    from data_prep.io.outputs import find_output, read_run_outputs

    chg = find_output(path, "CHGCAR")
    info = _volumetric(chg, magnetization) if chg else {}
    outputs = read_run_outputs(path)
    if chg is None and outputs is None:
        raise MagvoxInputError(path, "no CHGCAR, magvox_run.json, OUTCAR, OSZICAR or vasprun.xml")
    if outputs is not None:
        info.update(energy_eV=outputs.energy_eV, moment_reported=outputs.moment_uB)
    return info


def _label_counts(labels: Any) -> dict[str, dict[str, int]]:
    """{column: {value or 'missing': composites}} of the classification labels."""
    import pandas as pd

    counts = {}
    for col in CLASS_TARGETS:
        if col not in labels:
            counts[col] = {}
            continue
        values = pd.Series(["missing" if pd.isna(v) else str(int(v)) for v in labels[col]],
                           dtype=object)
        counts[col] = {str(k): int(v) for k, v in values.value_counts().items()}
    return counts


def _per_x(ds: Any) -> dict[str, dict[str, Any]]:
    """Composites, samples, label counts and test composites of each chalcogen X."""
    from data_prep.composite import chalcogen

    labels, index, test = ds.labels, ds.index, set(ds.test_composites)
    out = {}
    for x in sorted({chalcogen(c) for c in labels["composite"]}):
        mine = labels[[chalcogen(c) == x for c in labels["composite"]]]
        out[x] = {"composites": len(mine),
                  "samples": int(index["composite"].isin(set(mine["composite"])).sum()),
                  "test_composites": len(test & set(mine["composite"])),
                  "label_counts": _label_counts(mine)}
    return out


def _dataset(path: Path) -> dict[str, Any]:
    from data_prep.dataset.store import open_dataset

    ds = open_dataset(path)
    index, labels = ds.index, ds.labels
    grids: dict[str, int] = {}
    if len(index):
        grids = {str(k): int(v) for k, v in index["native_grid"].value_counts().items()}
    counts = _label_counts(labels)
    return {"format": "magvox-zarr" if path.suffix == ".zarr" or path.is_dir() else
            "magvox-dataset-list", "samples": len(index),
            "composites": int(index["composite"].nunique()) if len(index) else 0,
            "configurations": {str(k): int(v) for k, v in
                               index["configuration"].value_counts().items()} if len(index) else {},
            "grid_shapes": {"native": grids, "train": list(ds.train_grid)},
            "label_counts": counts, "test_composites": len(ds.test_composites),
            "per_x": _per_x(ds) if len(labels) else {}}


def _output_reader(path: Path) -> Any:
    """The run-output reader for an OUTCAR / OSZICAR / vasprun.xml file, else None."""
    from data_prep.io import outputs
    from data_prep.io.fileio import strip_compression

    name = strip_compression(path.name)
    for key, reader in (("OUTCAR", outputs.read_outcar), ("OSZICAR", outputs.read_oszicar),
                        ("vasprun", outputs.read_vasprun)):
        if key in name:
            return reader
    return None


def collect(path: Path, magnetization: str = "z") -> dict[str, Any]:
    """The info object for ``path`` with every key of KEYS (None where not applicable)."""
    if (path.is_dir() and (path / "zarr.json").is_file()) or path.suffix in (".yaml", ".yml"):
        found = _dataset(path)
    elif path.is_dir():
        found = _run_folder(path, magnetization)
    elif _output_reader(path) is not None:
        outputs = _output_reader(path)(path)  # type: ignore[misc]
        found = {"format": path.name, "energy_eV": outputs.energy_eV,
                 "moment_reported": outputs.moment_uB}
    else:
        found = _volumetric(path, magnetization)
    return {key: found.get(key) for key in KEYS}


def _per_x_table(per_x: dict[str, dict[str, Any]]) -> list[str]:
    """The per-chalcogen summary as an aligned table (label counts as 1/0/missing)."""
    def counts(entry: dict[str, Any], col: str) -> str:
        c = entry["label_counts"].get(col, {})
        return "/".join(str(c.get(k, 0)) for k in ("1", "0", "missing"))

    rows = [("X", "composites", "samples", "test", "ground_state 1/0/-", "moment_class 1/0/-")]
    rows += [(x, str(e["composites"]), str(e["samples"]), str(e["test_composites"]),
              counts(e, "ground_state"), counts(e, "moment_class")) for x, e in per_x.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    return [f"{'per_x' if i == 0 else '':16s} {line}" for i, line in enumerate(table)]


def _text(info: dict[str, Any]) -> str:
    lines = []
    for key, value in info.items():
        if value is None:
            continue
        if key == "per_x" and value:
            lines += _per_x_table(value)
            continue
        if isinstance(value, float):
            value = f"{value:.6g}"
        lines.append(f"{key:16s} {value}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the summary; 1 with a one-line reason when the path cannot be read."""
    from data_prep.errors import MagvoxInputError

    try:
        info = collect(Path(args.path), args.magnetization)
    except (MagvoxInputError, ValueError, FileNotFoundError) as exc:
        print(f"magvox info: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info) if args.json else _text(info))
    return 0
