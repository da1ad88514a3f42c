"""Helpers for the models tests: a small in-memory dataset with the data_prep.dataset API.

(docs/CONTRACTS.md). Fast to build; written to a real Zarr store by write_zarr_dataset.

FM composites get a positive moment blob, AFM ones a +/- pair on the two A sublattices, so a CNN
can learn the label from the density. Composite names follow the A2B2X6 prototype.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

A2 = ("Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu")
B = ("Ge2", "GeSi", "Si2")
X = ("S", "Se", "Te")


class FakeDataset:
    """``.index``, ``.labels``, ``.spin(sample_id, grid="train")`` on an (n, n, 2n) grid, uB/A^3."""

    def __init__(self, n_composites: int = 20, grid: tuple[int, int, int] = (8, 8, 12), seed=0):
        rng = np.random.default_rng(seed)
        combos = list(itertools.product(A2, B, X))[:n_composites]
        self.grid = grid
        rows, labels, self._spin = [], [], {}
        for i, (a2, b, x) in enumerate(combos):
            comp = f"Cr{a2}{b}{x}6" if a2 != "Cr" else f"Cr2{b}{x}6"
            fm = i % 2 == 0
            a = 6.0 + 0.1 * (i % 5)  # hexagonal cells of different volume
            lattice = [a, 0.0, 0.0, -a / 2, a * 3**0.5 / 2, 0.0, 0.0, 0.0, 20.0]
            for conf in ("FM", "AFM-Neel"):
                sid = f"{comp}/{conf}"
                rows.append({"sample_id": sid, "composite": comp, "configuration": conf,
                             "lattice_A": lattice, "volume_A3": a * a * 3**0.5 / 2 * 20.0})
                self._spin[sid] = self._density(rng, fm if conf == "FM" else not fm)
            labels.append({"composite": comp, "ground_state": int(fm),
                           "moment_uB": 6.0 if fm else 3.0 + rng.random(),
                           "exchange_energy_eV": (0.1 if fm else -0.1) + 0.01 * rng.random()})
        self.index = pd.DataFrame(rows)
        self.labels = pd.DataFrame(labels)

    def _density(self, rng, ferro: bool) -> np.ndarray:
        m = 0.02 * rng.standard_normal(self.grid).astype(np.float32)
        nx, ny, nz = self.grid
        m[nx // 4, ny // 4, nz // 2] += 1.0
        m[3 * nx // 4, 3 * ny // 4, nz // 2] += 1.0 if ferro else -1.0
        return m

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Magnetization density (Nx, Ny, Nz) float32, uB/A^3."""
        return self._spin[sample_id]


def write_zarr_dataset(path, source: FakeDataset):
    """Write ``source`` through data_prep.dataset (the real store) and return the path."""
    from data_prep import dataset as ds
    ds.create_store(path, train_grid=source.grid)
    labels = source.labels.set_index("composite")
    for row in source.index.to_dict("records"):
        lab = labels.loc[row["composite"]]
        fm = row["configuration"] == "FM"
        energy = 0.0 if fm else float(lab["exchange_energy_eV"])
        sid = row["sample_id"].replace("/", "_")
        moment = float(lab["moment_uB"]) if fm else 0.0
        meta = {**row, "sample_id": sid, "energy_eV": energy, "moment_uB": moment,
                "moment_reported_uB": moment}
        spin = source.spin(row["sample_id"])
        ds.write_sample(path, sid, meta, spin, spin)
    ds.rebuild_tables(path)
    return path
