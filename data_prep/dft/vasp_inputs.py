"""Engine ``vasp``: VASP inputs for a campaign and a SLURM array script to run them.

Each run folder ``<root>/<composite>/<configuration>/`` gets POSCAR, INCAR (ISPIN, MAGMOM, LCHARG),
KPOINTS and, when ``VASP_PP_PATH`` is set, POTCAR (PBE PAW, the VASP-recommended set below). The
finished tree is read by ``magvox prep`` like any VASP tree (CHGCAR, OUTCAR, OSZICAR).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.dft.kmesh import DEFAULT_KPTS, cell_kpts
from data_prep.dft.runs import RunSpec, build_atoms

# VASP-recommended PBE PAW potentials (semicore states where VASP advises them).
POTCAR_CHOICE = {"Ti": "Ti_sv", "V": "V_sv", "Cr": "Cr_pv", "Mn": "Mn_pv", "Nb": "Nb_pv",
                 "Y": "Y_sv", "Ru": "Ru_pv", "Ge": "Ge_d", "Sc": "Sc_sv", "Zr": "Zr_sv",
                 "Mo": "Mo_pv", "Tc": "Tc_pv", "Ca": "Ca_sv", "K": "K_sv", "Ga": "Ga_d",
                 "In": "In_d", "Sn": "Sn_d"}  # fmt: skip
INCAR_DEFAULTS: dict[str, Any] = {
    "PREC": "Accurate", "ENCUT": 400, "EDIFF": 1e-6, "NELM": 200, "ISMEAR": 0, "SIGMA": 0.05,
    "GGA": "PE", "LCHARG": ".TRUE.", "LWAVE": ".FALSE.", "LORBIT": 11, "LASPH": ".TRUE.",
}  # fmt: skip


def magmom_string(moments: np.ndarray) -> str:
    """VASP MAGMOM with runs compressed: [3, 3, 0, 0, 0] -> '2*3.00 3*0.00'."""
    parts, i = [], 0
    while i < len(moments):
        j = i
        while j + 1 < len(moments) and moments[j + 1] == moments[i]:
            j += 1
        n = j - i + 1
        parts.append(f"{n}*{moments[i]:.2f}" if n > 1 else f"{moments[i]:.2f}")
        i = j + 1
    return " ".join(parts)


def incar_text(spec: RunSpec, moments: np.ndarray, overrides: dict[str, Any]) -> str:
    tags = {"SYSTEM": f"{spec.decoration.name} {spec.configuration}", **INCAR_DEFAULTS}
    if spec.configuration == "NM":
        tags["ISPIN"] = 1
    else:
        tags["ISPIN"] = 2
        tags["MAGMOM"] = magmom_string(moments)
    tags.update({k.upper(): v for k, v in overrides.items()})
    return "".join(f"{k} = {v}\n" for k, v in tags.items())


def kpoints_text(atoms: Any, kpts: tuple[int, int, int]) -> str:
    """KPOINTS of a Gamma-centred mesh, ``kpts`` given for the 10-atom cell
    (data_prep.dft.kmesh)."""
    ka, kb, kc = cell_kpts(atoms, kpts)
    return f"Gamma-centred mesh\n0\nGamma\n{ka} {kb} {kc}\n0 0 0\n"


def potcar_text(species: list[str], pp_path: str) -> str:
    """Concatenated POTCARs from ``$VASP_PP_PATH/potpaw_PBE/<name>/POTCAR``."""
    base = Path(pp_path)
    roots = [base / "potpaw_PBE", base / "potpaw_PBE.54", base / "potpaw_PBE.64", base]
    texts = []
    for el in species:
        name = POTCAR_CHOICE.get(el, el)
        found = next((r / name / "POTCAR" for r in roots if (r / name / "POTCAR").is_file()), None)
        if found is None:
            raise FileNotFoundError(
                f"POTCAR for {el} ({name}) not found under {pp_path} (looked in "
                f"potpaw_PBE/{name}/POTCAR and alike)"
            )
        texts.append(found.read_text())
    return "".join(texts)


def write_vasp_run(spec: RunSpec, root: Path, params: dict[str, Any]) -> Path:
    """Write one run folder; returns it. POTCAR only if VASP_PP_PATH is set."""
    from ase.io import write

    atoms, moments = build_atoms(spec)
    folder = Path(root) / spec.relpath
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "POSCAR", atoms, format="vasp", direct=True, sort=False)
    kpts = tuple(params.get("kpts", DEFAULT_KPTS))
    incar = {k: v for k, v in params.items() if k != "kpts"}
    (folder / "INCAR").write_text(incar_text(spec, moments, incar))
    (folder / "KPOINTS").write_text(kpoints_text(atoms, kpts))  # type: ignore[arg-type]
    pp = os.environ.get("VASP_PP_PATH")
    if pp:
        species = list(dict.fromkeys(atoms.get_chemical_symbols()))
        (folder / "POTCAR").write_text(potcar_text(species, pp))
    return folder


def slurm_array_script(n_runs: int, *, ntasks: int = 32, time: str = "04:00:00") -> str:
    """sbatch array script: task i runs VASP in folder i of runs.txt, skipping finished ones."""
    return f"""#!/bin/bash
#SBATCH --job-name=magvox-dft
#SBATCH --array=0-{n_runs - 1}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node={ntasks}
#SBATCH --time={time}
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "$SLURM_SUBMIT_DIR"
RUN=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" runs.txt)
cd "$RUN"
if [ -s CHGCAR ] && grep -q "General timing" OUTCAR 2>/dev/null; then
  echo "$RUN finished already"; exit 0
fi
srun ${{VASP_CMD:-vasp_std}}
"""


def write_vasp_campaign(specs: list[RunSpec], root: Path, params: dict[str, Any]) -> str:
    """All run folders, runs.txt and submit.sh under ``root``; returns a summary for the user."""
    root = Path(root)
    folders = [write_vasp_run(s, root, params) for s in specs]
    (root / "runs.txt").write_text("".join(f"{f.relative_to(root)}\n" for f in folders))
    (root / "submit.sh").write_text(slurm_array_script(len(folders)))
    rect = sum(s.cell_shape == "rectangular" for s in specs)
    msg = f"wrote {len(folders)} VASP runs ({rect} in the rectangular cell) under {root}; "
    msg += f"submit with: cd {root} && sbatch submit.sh"
    if not os.environ.get("VASP_PP_PATH"):
        msg += ("\nPOTCAR not written: set VASP_PP_PATH to the folder holding potpaw_PBE/ "
                "and run again (the other inputs are unchanged).")  # fmt: skip
    return msg
