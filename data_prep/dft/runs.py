"""One DFT run of a decorated prototype, written atomically as a magvox run folder.

Layout (docs/CONTRACTS.md): ``<root>/<composite>/<configuration>/`` with CHGCAR, POSCAR, gpaw.txt
and magvox_run.json. The folder is assembled in a hidden temporary sibling and renamed into place,
so a run folder either holds a complete result (or a complete failure record) or does not exist;
a run killed mid-way leaves only a temporary folder, which the next attempt replaces.
"""

from __future__ import annotations

import os
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_prep import CELLS
from data_prep.dft.bond_rules import DEFAULT_RULE, RULES
from data_prep.dft.magnetic import RECTANGULAR, initial_moments
from data_prep.dft.structures import Decoration, a_site_indices, prototype, rectangular
from data_prep.io.run_record import SCHEMA, find_run_record, write_run_record


@dataclass(frozen=True)
class RunSpec:
    """What to compute: a decoration in one magnetic configuration, in one cell.

    ``cell``: ``auto`` (the 10-atom hexagonal cell for NM, FM and Neel, the 20-atom rectangular
    cell for zigzag and stripy), ``hexagonal`` or ``rectangular`` (every configuration in the
    4-A cell, so that all four energies of the J1-J3 mapping share one cell and k-mesh).
    ``geometry``: the bond-length rule of the prototype (``data_prep.dft.bond_rules``); a run record
    without one was made by ``covalent``.
    """

    decoration: Decoration
    configuration: str
    cell: str = CELLS[0]
    geometry: str = DEFAULT_RULE

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell {self.cell!r} is not one of {', '.join(CELLS)}")
        if self.geometry not in RULES:
            raise ValueError(f"geometry {self.geometry!r} is not one of {', '.join(RULES)}")

    @property
    def relpath(self) -> Path:
        return Path(self.decoration.name) / self.configuration

    @property
    def cell_shape(self) -> str:
        """The cell the run uses: ``hexagonal`` or ``rectangular``."""
        if self.cell != "auto":
            return self.cell
        return "rectangular" if self.configuration in RECTANGULAR else "hexagonal"


def build_atoms(spec: RunSpec) -> tuple[Any, np.ndarray]:
    """The cell (10-atom, or 20-atom rectangular: ``spec.cell_shape``) and initial moments (uB).

    Atoms are grouped by species (stable order A1, A2, B1, B2, X) so CHGCAR/POSCAR headers list
    each species once; the moments follow the same order.
    """
    dec = spec.decoration
    build = rectangular if spec.cell_shape == "rectangular" else prototype
    atoms = build(dec, spec.geometry)
    moments = initial_moments(atoms, a_site_indices(atoms), spec.configuration)
    first = {}
    for i, s in enumerate(atoms.get_chemical_symbols()):
        first.setdefault(s, i)
    order = sorted(range(len(atoms)), key=lambda i: (first[atoms[i].symbol], i))
    return atoms[order], moments[order]


def positions_from(folder: str | Path, spec: RunSpec, atoms: Any) -> Any:
    """``atoms`` with the positions of ``<folder>/<composite>/FM/POSCAR`` (a run of the same
    composite and cell, e.g. relaxed in FM). FileNotFoundError / ValueError name the file."""
    from ase.io import read

    path = Path(folder) / spec.decoration.name / "FM" / "POSCAR"
    if not path.is_file():
        raise FileNotFoundError(f"geometry_from: {path} does not exist (run FM there first)")
    other = read(str(path), format="vasp")
    if other.get_chemical_symbols() != atoms.get_chemical_symbols():
        raise ValueError(f"geometry_from: {path} holds {other.get_chemical_formula()}, not the "
                         f"{spec.cell_shape} cell of {spec.decoration.name}")
    if not np.allclose(other.cell.array, atoms.cell.array, atol=1e-3):
        raise ValueError(f"geometry_from: {path} has another cell than the {spec.geometry} "
                         f"prototype of {spec.decoration.name}")
    out = atoms.copy()
    out.set_positions(other.get_positions())
    return out


def _publish(tmp_dir: Path, final: Path) -> None:
    """Rename the finished temporary folder into place (replacing an older failure record)."""
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp_dir, final)


def _result_files(tmp: Path, result: dict, base: dict) -> dict:
    from pymatgen.io.ase import AseAtomsAdaptor

    from data_prep.io.chgcar import write_chgcar

    atoms = result["atoms"]
    structure = AseAtomsAdaptor.get_structure(atoms)
    structure.to(filename=str(tmp / "POSCAR"), fmt="poscar")
    write_chgcar(tmp / "CHGCAR", structure, result["total"], result["magnetization"],
                 title=f"{base['composite']} {base['configuration']} (magvox gpaw)")  # fmt: skip
    voxel = atoms.get_volume() / result["total"].size  # A^3 per grid point
    record = dict(base)
    record.update({k: v for k, v in result.items() if k not in ("atoms", "total", "magnetization")})
    record["status"] = "ok" if result["converged"] else "unconverged"
    record["electrons_integrated"] = float(result["total"].sum() * voxel)
    record["moment_integrated_uB"] = float(result["magnetization"].sum() * voxel)
    record["grid"] = list(result["total"].shape)
    return record


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs on this host.

    A zombie counts as gone: a killed worker whose parent died too stays a zombie wherever PID 1
    does not reap orphans (containers), and ``kill(pid, 0)`` still succeeds on it.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no procfs (macOS) or gone meanwhile: trust kill()
        return not Path("/proc/self").exists()
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _remove_stale(parent: Path, configuration: str) -> None:
    """Remove temporary folders of interrupted attempts (their process is gone; same host)."""
    for tmp in parent.glob(f".{configuration}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or not _pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def record_failure(spec: RunSpec, root: Path, reason: str) -> dict:
    """Publish a failure record for ``spec`` (e.g. its worker process died)."""
    final = Path(root) / spec.relpath
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{spec.configuration}.fail-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    record = {"schema": SCHEMA, "engine": "gpaw", "composite": spec.decoration.name,
              "configuration": spec.configuration, "cell": spec.cell_shape,
              "geometry": spec.geometry, "sites": spec.decoration.as_dict(), "status": "failed",
              "reason": reason}  # fmt: skip
    write_run_record(tmp, record)
    _publish(tmp, final)
    return record


def run_one(spec: RunSpec, root: Path, params: dict, *, force: bool = False) -> dict:
    """Compute ``spec`` under ``root`` unless it has finished; return its record.

    A finished record (status ok, failed or unconverged) is returned as is unless ``force``.
    Exceptions of the engine become a ``failed`` record with the reason; nothing is raised.
    """
    from data_prep.dft.gpaw_engine import GpawParameters, run_gpaw

    final = Path(root) / spec.relpath
    old = find_run_record(final)
    if old is not None and not force:
        return {**old, "skipped": True}
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(final.parent, spec.configuration)
    tmp = final.parent / f".{spec.configuration}.tmp-{os.getpid()}"
    tmp.mkdir()
    from data_prep.dft.run_progress import ProgressWriter

    gp = GpawParameters.from_dict(params)
    base = {"schema": SCHEMA, "engine": "gpaw", "composite": spec.decoration.name,
            "configuration": spec.configuration, "cell": spec.cell_shape,
            "geometry": spec.geometry, "sites": spec.decoration.as_dict(),
            "parameters": gp.as_dict(), "reason": None}  # fmt: skip
    live = ProgressWriter(tmp, {"composite": spec.decoration.name,
                                "configuration": spec.configuration})  # fmt: skip
    try:
        atoms, moments = build_atoms(spec)
        if gp.geometry_from:
            atoms = positions_from(gp.geometry_from, spec, atoms)
        base["initial_moments_uB"] = moments.tolist()
        base["symbols"] = atoms.get_chemical_symbols()
        record = _result_files(tmp, run_gpaw(atoms, moments, gp, tmp, live), base)
        if record["status"] != "ok":
            record["reason"] = f"SCF not converged in {gp.maxiter} iterations"
    except Exception as exc:  # the campaign goes on; the reason is kept
        unconverged = "not converged" in str(exc).lower() or "Convergence" in type(exc).__name__
        detail = str(exc) or (f"SCF not converged within maxiter={gp.maxiter} iterations"
                              if unconverged else "no message")  # fmt: skip
        record = {**base, "status": "unconverged" if unconverged else "failed",
                  "reason": f"{type(exc).__name__}: {detail}",
                  "traceback": traceback.format_exc(limit=5)}  # fmt: skip
    live.close()
    write_run_record(tmp, record)
    _publish(tmp, final)
    return record
