"""Helpers for the models tests: a small in-memory dataset with the data_prep.dataset.store API.

(docs/CONTRACTS.md). Fast to build; written to a real Zarr store by write_zarr_dataset.

The densities follow the store's convention (uB/A^3; the cell's moment is sum * V_cell / N_grid):
each run puts a moment on the two A sites, one voxel each, over zero-mean noise. The FM run of
a composite holds Cr (A1) +3 uB and A2 +(M - 3) uB, so it integrates to the composite's moment
label M: 6 uB for an FM ground state (A2 +3), 3-4 uB for an AFM one (A2 +0-1 uB, too small to
order against Cr). The AFM-Neel run holds +3 and -3 uB and integrates to 0. A CNN can thus
learn the label from the FM density (the size of the A2 moment). Composite names follow the
A2B2X6 prototype.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

A2 = ("Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu")
B = ("Ge2", "GeSi", "Si2")
X = ("S", "Se", "Te")
A1_UB = 3.0  # the Cr3+ moment of every run's A1 site


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
            moment = 6.0 if fm else A1_UB + rng.random()  # uB per cell, the FM run's
            a = 6.0 + 0.1 * (i % 5)  # hexagonal cells of different volume
            lattice = [a, 0.0, 0.0, -a / 2, a * 3**0.5 / 2, 0.0, 0.0, 0.0, 20.0]
            volume = a * a * 3**0.5 / 2 * 20.0
            for conf in ("FM", "AFM-Neel"):
                sid = f"{comp}/{conf}"
                rows.append({"sample_id": sid, "composite": comp, "configuration": conf,
                             "lattice_A": lattice, "volume_A3": volume})
                sites = (A1_UB, moment - A1_UB) if conf == "FM" else (A1_UB, -A1_UB)
                self._spin[sid] = self._density(rng, sites, volume)
            labels.append({"composite": comp, "ground_state": int(fm), "moment_uB": moment,
                           "exchange_energy_eV": (0.1 if fm else -0.1) + 0.01 * rng.random()})
        self.index = pd.DataFrame(rows)
        self.labels = pd.DataFrame(labels)

    def _density(self, rng, sites_uB: tuple[float, float], volume_A3: float) -> np.ndarray:
        """(Nx, Ny, Nz) float32 uB/A^3: zero-mean noise plus the two A moments (uB), one voxel
        each; it integrates (sum * V / N) to sum(sites_uB)."""
        noise = 0.02 * rng.standard_normal(self.grid)
        m = noise - noise.mean()
        one_uB = m.size / volume_A3  # the density of one voxel that holds 1 uB
        nx, ny, nz = self.grid
        m[nx // 4, ny // 4, nz // 2] += sites_uB[0] * one_uB
        m[3 * nx // 4, 3 * ny // 4, nz // 2] += sites_uB[1] * one_uB
        return m.astype(np.float32)

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Magnetization density (Nx, Ny, Nz) float32, uB/A^3."""
        return self._spin[sample_id]


def write_zarr_dataset(path, source: FakeDataset):
    """Write ``source`` through data_prep.dataset.store (the real store) and return the path."""
    from data_prep.dataset import store as ds
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
