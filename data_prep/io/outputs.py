"""Run outputs: energy, total moment and per-site moments of one DFT run folder.

Sources, first found wins for each quantity: magvox_run.json (the magvox/GPAW contract), OUTCAR,
OSZICAR, vasprun.xml (plain or .gz/.bz2/.xz). Energies are VASP's free energy F (TOTEN), eV per
cell; moments are uB per cell (non-collinear runs: the z component).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import MagvoxInputError
from data_prep.io.fileio import COMPRESSIONS, read_bytes
from data_prep.io.run_record import RUN_JSON, read_run_record

_TOTAL_MAG = re.compile(rb"number of electron[ \t]+\S+[ \t]+magnetization[ \t]*([^\n]*)")


@dataclass
class RunOutputs:
    """What a run reported. None where the folder does not say.

    energy_eV: free energy F per cell, eV. moment_uB: total moment per cell, uB (m_z if SOC).
    site_moments_uB: per-site moments, uB, in structure order. sources: files used.
    status/reason/converged/composite/configuration: from magvox_run.json when present.
    """

    energy_eV: float | None = None
    moment_uB: float | None = None
    site_moments_uB: list[float] | None = None
    converged: bool | None = None
    status: str = "ok"
    reason: str | None = None
    composite: str | None = None
    configuration: str | None = None
    sources: list[str] = field(default_factory=list)


def find_output(folder: Path, name: str) -> Path | None:
    """``folder/name`` or a compressed variant of it, if present."""
    for suffix in ("", *COMPRESSIONS):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_run_json(path: Path) -> RunOutputs:
    """Outputs from a magvox_run.json (schema 1, see docs/CONTRACTS.md)."""
    meta = read_run_record(path, schema=True)
    sites = meta.get("site_moments_uB")
    return RunOutputs(
        energy_eV=_float_or_none(meta.get("energy_eV")),
        moment_uB=_float_or_none(meta.get("moment_uB")),
        site_moments_uB=[float(m) for m in sites] if sites else None,
        converged=meta.get("converged"),
        status=str(meta.get("status", "ok")),
        reason=meta.get("reason"),
        composite=meta.get("composite"),
        configuration=meta.get("configuration"),
        sources=[str(path)],
    )


def _float_or_none(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def read_outcar(path: Path) -> RunOutputs:
    """Energy (last TOTEN), total moment (last 'number of electron ... magnetization') and
    per-site total moments (z for non-collinear runs) from an OUTCAR."""
    from pymatgen.io.vasp.outputs import Outcar

    text = read_bytes(path)
    found = _TOTAL_MAG.findall(text)
    moment = None
    if found:
        parts = found[-1].split()
        moment = float(parts[-1]) if parts else None  # 1 value (collinear) or mx my mz
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcar = Outcar(str(path))
    except Exception as exc:  # pymatgen raises many types on a damaged OUTCAR
        raise MagvoxInputError(path, f"OUTCAR unreadable: {exc}") from None
    sites = [_site_moment(m.get("tot")) for m in outcar.magnetization] or None
    energy = outcar.final_fr_energy if outcar.final_fr_energy is not None else outcar.final_energy
    return RunOutputs(energy_eV=_float_or_none(energy), moment_uB=moment, site_moments_uB=sites,
                      sources=[str(path)])


def _site_moment(value: object) -> float:
    moment = getattr(value, "moment", None)
    return float(moment[2]) if moment is not None else float(value)  # type: ignore[arg-type]


def read_oszicar(path: Path) -> RunOutputs:
    """Final free energy F and 'mag=' (when spin-polarized) from an OSZICAR."""
    from pymatgen.io.vasp.outputs import Oszicar

    try:
        steps = Oszicar(str(path)).ionic_steps
    except Exception as exc:
        raise MagvoxInputError(path, f"OSZICAR unreadable: {exc}") from None
    if not steps:
        raise MagvoxInputError(path, "OSZICAR has no ionic step (run did not finish one)")
    last = steps[-1]
    return RunOutputs(energy_eV=_float_or_none(last.get("F")), moment_uB=_float_or_none(
        last.get("mag")), sources=[str(path)])


def read_vasprun(path: Path) -> RunOutputs:
    """Final energy and convergence from vasprun.xml (no moments: VASP does not write them)."""
    from pymatgen.io.vasp.outputs import Vasprun

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    except Exception as exc:
        raise MagvoxInputError(path, f"vasprun.xml unreadable: {exc}") from None
    energy = run.ionic_steps[-1].get("e_fr_energy") if run.ionic_steps else None
    return RunOutputs(energy_eV=_float_or_none(energy), converged=run.converged,
                      sources=[str(path)])


_READERS = (("OUTCAR", read_outcar), ("OSZICAR", read_oszicar), ("vasprun.xml", read_vasprun))


def read_run_outputs(folder: str | Path) -> RunOutputs | None:
    """Merge what the folder's output files say; None when it has none of them."""
    folder = Path(folder)
    run_json = folder / RUN_JSON
    merged = read_run_json(run_json) if run_json.is_file() else None
    for name, reader in _READERS:
        path = find_output(folder, name)
        if path is None or (reader is read_vasprun and merged and merged.energy_eV is not None):
            continue  # vasprun.xml is slow to parse and adds only the energy
        part = reader(path)
        merged = part if merged is None else _merge(merged, part)
    return merged


def _merge(first: RunOutputs, second: RunOutputs) -> RunOutputs:
    """Fill the gaps of ``first`` from ``second``."""
    for name in ("energy_eV", "moment_uB", "site_moments_uB", "converged"):
        if getattr(first, name) is None and getattr(second, name) is not None:
            setattr(first, name, getattr(second, name))
    first.sources += second.sources
    return first
