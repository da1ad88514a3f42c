"""Live state of one DFT run, written by the worker for the campaign driver to poll.

A Ray task cannot print to the driver's terminal, so the worker keeps a small JSON file,
``progress.json``, in its run's temporary folder (``<root>/<composite>/.<config>.tmp-<pid>/``, on
the campaign's shared file system), replaced atomically at most once a second. The driver
(``data_prep.dft.progress``) reads the files of the runs in flight; the file is removed before the
run
folder is published, so finished runs never carry it.

Fields: composite, configuration, phase (``setup``, ``scf``, ``relax``, ``writing``), started and
updated (Unix time, s), scf_iteration, energy_eV, energy_change_eV (against the previous SCF
iteration), log10_density_error (GPAW's density criterion: change of the density per valence
electron, log10), relax_step and max_force_eV_per_A (relaxations only).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

PROGRESS_JSON = "progress.json"
HARTREE_EV = 27.211386245988  # CODATA 2018


class ProgressWriter:
    """Keeps ``<workdir>/progress.json`` up to date, at most every ``min_interval_s`` seconds."""

    def __init__(self, workdir: Path, info: dict[str, Any], min_interval_s: float = 1.0) -> None:
        self.path = Path(workdir) / PROGRESS_JSON
        self.min_interval_s = min_interval_s
        now = time.time()
        self.state: dict[str, Any] = {**info, "phase": "setup", "started": now, "updated": now}
        self._written = 0.0
        self._last_energy: float | None = None
        self.write()

    def write(self) -> None:
        """Replace the file now (atomic: the driver never reads half a file)."""
        self.state["updated"] = time.time()
        tmp = self.path.with_name(f".{PROGRESS_JSON}.tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.path)
        self._written = time.monotonic()

    def update(self, force: bool = False, **fields: Any) -> None:
        """Merge ``fields`` into the state; write unless the last write is too recent."""
        self.state.update(fields)
        if force or time.monotonic() - self._written >= self.min_interval_s:
            self.write()

    def scf_step(self, iteration: int, energy_eV: float, density_error: float | None) -> None:
        """One SCF iteration: its number, total energy (eV) and density error (per electron)."""
        change = None if self._last_energy is None else energy_eV - self._last_energy
        self._last_energy = energy_eV
        finite = density_error is not None and 0 < density_error < math.inf  # inf at iteration 1
        log_err = math.log10(density_error) if finite else None
        phase = "relax" if self.state.get("relax_step") is not None else "scf"
        self.update(phase=phase, scf_iteration=int(iteration), energy_eV=float(energy_eV),
                    energy_change_eV=change, log10_density_error=log_err)  # fmt: skip

    def relax_step(self, step: int, max_force: float) -> None:
        """One relaxation step done: its number and the largest force (eV/A)."""
        self._last_energy = None
        self.update(force=True, phase="relax", relax_step=int(step),
                    max_force_eV_per_A=float(max_force))  # fmt: skip

    def close(self) -> None:
        """Remove the file (before the run folder is published)."""
        self.path.unlink(missing_ok=True)


def _on_scf_context(writer: ProgressWriter, ctx: Any) -> None:
    """GPAW's SCF context (new and old GPAW share these fields): energy in Hartree."""
    energy = float(ctx.ham.e_total_extrapolated) * HARTREE_EV
    error = getattr(ctx.dens, "error", None)
    nvalence = getattr(ctx.wfs, "nvalence", None)
    per_electron = float(error) / nvalence if error is not None and nvalence else None
    writer.scf_step(ctx.niter, energy, per_electron)


def watch_scf(calc: Any, writer: ProgressWriter) -> bool:
    """Report every SCF iteration of ``calc`` to ``writer``; False if this GPAW offers no hook.

    GPAW >= 24 calls ``calc.hooks["scf_step"](ctx)`` once per iteration; older GPAW calls the
    observers of ``calc.attach`` with no argument (the state is read from ``calc.scf``).
    """
    hooks = getattr(calc, "hooks", None)
    if isinstance(hooks, dict):
        hooks["scf_step"] = lambda ctx: _on_scf_context(writer, ctx)
        return True
    if hasattr(calc, "attach"):
        def observer() -> None:
            energy = float(calc.hamiltonian.e_total_extrapolated) * HARTREE_EV
            writer.scf_step(calc.scf.niter, energy, None)

        calc.attach(observer, 1)
        return True
    return False
