"""DFT outputs -> the shared Zarr dataset, and the embedded DFT generator. No magvox imports.

Packages by role: ``io`` (format readers and writers), ``dataset`` (the Zarr store, splits, labels,
prep), ``dft`` (prototype, GPAW and VASP engines, campaigns), ``analysis`` (J fits, cards,
studies); beside them ``composite`` (the composite-name codec), ``errors`` and ``ray_local``.

The constants here are the one source of each, shared by several modules and the CLI (plain
Python: the CLI reads them for its defaults without importing numpy or ASE).
"""

from pathlib import Path

# the training grid every sample is Fourier-regridded to, points along a, b, c
TRAIN_GRID: tuple[int, int, int] = (60, 60, 120)
# the bundled dataset (the X = Te composites of Table 1), usable from any working directory;
# data/cgt.yaml lists every chalcogen computed so far as one dataset
BUNDLED_DATASET = Path(__file__).resolve().parents[1] / "data" / "cgt_te.zarr"

# the spin density read from non-collinear files: m_z by default, or m_x, m_y, |m|
DEFAULT_MAGNETIZATION = "z"
MAGNETIZATION_CHOICES = (DEFAULT_MAGNETIZATION, "x", "y", "norm")
# where prep finds a run's composite and configuration in a file's path (data_prep.dataset.discover)
DEFAULT_PATTERN = "{composite}/{configuration}/{file}"

# magnetic configurations of a run (data_prep.dft.magnetic builds their moments); NM, FM and Neel
# fit
# the 10-atom cell, zigzag and stripy need the rectangular 4-A one
CONFIGURATIONS = ("NM", "FM", "AFM-Neel", "AFM-zigzag", "AFM-stripy")
# the cell of a run (data_prep.dft.runs.RunSpec; the first is the default): auto = the 10-atom cell,
# the rectangular 4-A one for zigzag and stripy
CELLS = ("auto", "hexagonal", "rectangular")
# the four orders whose energies fix J1, J2, J3 and E0 (data_prep.analysis.exchange_labels)
J_CONFIGURATIONS = CONFIGURATIONS[1:]
# the fitted couplings as targets and their label columns, meV (J > 0 ferromagnetic;
# data_prep.analysis.exchange)
J_TARGETS = ("J1", "J2", "J3")
J_COLUMNS = ["J1_meV", "J2_meV", "J3_meV"]

# what a network can learn -> the label column it is read from (data_prep.dataset.labels);
# moment_class
# is recomputed from moment_uB so that its threshold is a hyperparameter
TARGET_COLUMNS = {"ground_state": "ground_state", "moment_class": "moment_uB",
                  "moment": "moment_uB", "exchange_energy": "exchange_energy_eV",
                  **dict(zip(J_TARGETS, J_COLUMNS, strict=True))}
# the targets that are classes, each a label column of 0/1 of its name; the others are values
CLASS_TARGETS = ("ground_state", "moment_class")
