"""The embedded DFT engine: one spin-polarized GPAW calculation -> a magvox run folder.

Defaults (measured here: Cr2Ge2Te6 FM converges in ~70-110 s on one core at 6.00 uB):
LCAO with the dzp basis, PBE, grid spacing h = 0.2 A, 4x4x1 Monkhorst-Pack k-points (scaled with
the cell for the rectangular one), Fermi-Dirac smearing 0.05 eV, GPAW's default SCF criteria.

Written density (``density: pseudo``, the default) is GPAW's smooth valence density on the
calculation grid, the analogue of what VASP writes to CHGCAR (also a pseudo density): it integrates
to the valence electron count and its magnetization to the cell's moment. ``density: ae`` writes the
all-electron valence density on a 2x refined grid instead (integrals within ~0.01 uB, 8x larger).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.dft.kmesh import DEFAULT_KPTS, cell_kpts

DEFAULT_SETUP_PATH = "/usr/share/gpaw-setups"


@dataclass
class GpawParameters:
    """GPAW settings of a run; recorded in every run's magvox_run.json.

    Attributes:
        basis: LCAO basis set name (dzp: double zeta + polarization; sz for quick tests).
        xc: exchange-correlation functional.
        h: real-space grid spacing in A (0.2: converged moments; 0.25 fast tests).
        kpts: Monkhorst-Pack mesh of the 10-atom cell (the rectangular cell scales b by 1/sqrt 3).
        smearing_eV: Fermi-Dirac width in eV.
        maxiter: SCF iteration limit; an unconverged run is recorded as such, never used.
        density: "pseudo" (VASP-like smooth density) or "ae" (all-electron, 2x grid).
        energy_tol_eV: SCF energy convergence per valence electron, eV (GPAW default 5e-4).
        relax_fmax: None (default: the prototype geometry, no relaxation) or a force threshold in
            eV/A: BFGS relaxation of the atomic positions, cell fixed, before the density is
            written. Costs 10-50 SCF cycles; 0.05 is a usual choice.
        relax_steps: BFGS step limit; a relaxation that does not reach relax_fmax is recorded
            (``relax_converged`` False) but still used.
        mixer_beta: None (GPAW's default density mixer) or the step of a gentler one (e.g. 0.02,
            with 8 old densities kept and a long-range Fourier metric, weight 100) for SCF cycles
            that slosh between magnetic states. With GPAW's default backend (MSR1) it is MSR1's
            Pratt step, whose adaptive coefficient may still reach 0.75: little gentler than
            the default (step 0.05); with ``mixer_backend=pulay`` it is Pulay's fixed fraction.
        mixer_backend: None (GPAW's default, ``msr1``) or ``pulay``: Pulay mixing with the
            fixed fraction ``mixer_beta`` (default 0.05 here), the classic remedy for sloshing.
        mixer_method: None (GPAW's default: both spin densities mixed as one) or
            ``difference``: the total density and the magnetization (up - down) mixed apart,
            each by its own mixer of ``mixer_backend`` and ``mixer_beta``, for a soft moment
            (a weakly polarized A2 such as Ti) that wanders while the density has settled.
        mode: ``lcao`` (default: localized dzp basis, fast) or ``pw`` (plane waves up to
            ``ecut_eV``: a complete basis, as VASP uses; 5-10x the time of LCAO here).
        ecut_eV: plane-wave cutoff in eV (``pw`` only).
        geometry_from: None (the prototype's positions) or a campaign folder whose
            ``<composite>/FM/POSCAR`` gives the atomic positions (e.g. a run relaxed in FM with
            ``relax_fmax``): every configuration is then computed at that one geometry. The
            species and cell must match the prototype's (a relaxation keeps the cell).
        extra: further GPAW keyword arguments (Python API only).
    """

    basis: str = "dzp"
    xc: str = "PBE"
    h: float = 0.2
    kpts: tuple[int, int, int] = DEFAULT_KPTS
    smearing_eV: float = 0.05
    maxiter: int = 300
    density: str = "pseudo"
    energy_tol_eV: float = 5e-4
    relax_fmax: float | None = None
    relax_steps: int = 50
    mixer_beta: float | None = None
    mixer_backend: str | None = None
    mixer_method: str | None = None
    mode: str = "lcao"
    ecut_eV: float = 400.0
    geometry_from: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GpawParameters:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown GPAW parameter(s) {unknown}; known: "
                             f"{', '.join(cls.__dataclass_fields__)}")
        if "kpts" in known:
            known["kpts"] = tuple(int(k) for k in known["kpts"])
        if known.get("density", "pseudo") not in ("pseudo", "ae"):
            raise ValueError(f"density must be 'pseudo' or 'ae', got {known['density']!r}")
        if known.get("mode", "lcao") not in ("lcao", "pw"):
            raise ValueError(f"mode must be 'lcao' or 'pw', got {known['mode']!r}")
        for key, allowed in (("mixer_method", ("difference",)),
                             ("mixer_backend", ("msr1", "pulay"))):
            if known.get(key) not in (None, *allowed):
                raise ValueError(f"{key} must be {' or '.join(map(repr, allowed))} (or unset), "
                                 f"got {known[key]!r}")
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kpts"] = list(self.kpts)
        return d


def _mixer(params: GpawParameters) -> dict[str, Any] | None:
    """GPAW's mixer keywords for ``mixer_beta``, ``mixer_backend`` and ``mixer_method``;
    None: GPAW's default mixer (MSR1, step 0.05, 10 old densities, Fourier weight 20)."""
    if (params.mixer_beta, params.mixer_backend, params.mixer_method) == (None, None, None):
        return None
    beta = 0.05 if params.mixer_beta is None else float(params.mixer_beta)
    mixer: dict[str, Any] = {"beta": beta, "nmaxold": 8, "weight": 100.0}
    if params.mixer_backend is not None:
        mixer = {"name": params.mixer_backend, **mixer}
    if params.mixer_method == "difference":  # GPAW >= 25: total (a) and up - down (b) apart
        sub = {"name": params.mixer_backend or "msr1", **mixer}
        return {"name": "multi", "method": "dif", "mixer_a": sub, "mixer_b": dict(sub)}
    return mixer


def _relax(atoms: Any, params: GpawParameters, workdir: Path, progress: Any = None) -> dict:
    """Relax positions in place (cell fixed); returns what to record."""
    from ase.optimize import BFGS

    opt = BFGS(atoms, logfile=str(workdir / "relax.log"))
    if progress is not None:  # after each step's forces: the step number and the largest force
        opt.attach(lambda: progress.relax_step(
            opt.nsteps, float(np.linalg.norm(atoms.get_forces(), axis=1).max())))  # fmt: skip
    converged = bool(opt.run(fmax=params.relax_fmax, steps=params.relax_steps))
    forces = atoms.get_forces()
    return {
        "relax_converged": converged,
        "relax_steps_taken": int(opt.nsteps),
        "max_force_eV_per_A": float(np.linalg.norm(forces, axis=1).max()),
    }


def run_gpaw(
    atoms: Any, moments: np.ndarray, params: GpawParameters, workdir: Path,
    progress: Any = None,
) -> dict:  # fmt: skip
    """Run one SCF in ``workdir``; return results and the densities (e/A^3, uB/A^3).

    ``progress``: a ``data_prep.dft.run_progress.ProgressWriter`` told of every SCF iteration and
    relaxation step (the live view of ``magvox generate``), or None.

    Returns a dict with energy_eV, moment_uB, site_moments_uB, converged, elapsed_s,
    engine_version, total (Nx, Ny, Nz) and magnetization (Nx, Ny, Nz) arrays (per volume).
    Raises whatever GPAW raises (e.g. KohnShamConvergenceError); the campaign records it.
    """
    os.environ.setdefault("GPAW_SETUP_PATH", DEFAULT_SETUP_PATH)
    import gpaw
    from gpaw import GPAW, LCAO, PW, FermiDirac

    spinpol = bool(np.any(moments != 0))
    extra = dict(params.extra)
    mixer = _mixer(params)
    if mixer is not None:
        extra.setdefault("mixer", mixer)
    atoms = atoms.copy()
    atoms.set_initial_magnetic_moments(moments)
    start = time.perf_counter()
    mode = PW(params.ecut_eV) if params.mode == "pw" else LCAO()
    calc = GPAW(
        mode=mode, basis=params.basis, xc=params.xc, h=params.h, kpts=cell_kpts(atoms, params.kpts),
        spinpol=spinpol, occupations=FermiDirac(params.smearing_eV), maxiter=params.maxiter,
        convergence={"energy": params.energy_tol_eV}, txt=str(workdir / "gpaw.txt"),
        **extra,
    )  # fmt: skip
    atoms.calc = calc
    if progress is not None:
        from data_prep.dft.run_progress import watch_scf

        watch_scf(calc, progress)
    relax = _relax(atoms, params, workdir, progress) if params.relax_fmax else {}
    energy = atoms.get_potential_energy()
    if progress is not None:
        progress.update(force=True, phase="writing")
    spins = (0, 1) if spinpol else (0,)
    if params.density == "ae":
        dens = [
            calc.get_all_electron_density(spin=s, gridrefinement=2, skip_core=True) for s in spins
        ]
    else:
        dens = [calc.get_pseudo_density(spin=s) for s in spins]
    total = sum(dens)
    magnetization = dens[0] - dens[1] if spinpol else np.zeros_like(total)
    return {
        "energy_eV": float(energy),
        "moment_uB": float(calc.get_magnetic_moment()) if spinpol else 0.0,
        "site_moments_uB": [float(m) for m in calc.get_magnetic_moments()]
        if spinpol
        else [0.0] * len(atoms),
        "converged": True,  # GPAW raises KohnShamConvergenceError otherwise
        "scf_iterations": int(calc.get_number_of_iterations()),
        "elapsed_s": time.perf_counter() - start,
        "engine_version": f"gpaw {gpaw.__version__}",
        "kpts": list(cell_kpts(atoms, params.kpts)),
        **relax,
        "atoms": atoms,
        "total": np.asarray(total),
        "magnetization": np.asarray(magnetization),
    }
