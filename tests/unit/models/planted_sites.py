"""An in-memory dataset whose label lives on the X sites only (the explain tests' planted
target): 10-atom A1 A2 B1 B2 X6 cells with Gaussian moment blobs on every atom. The A blobs are
large and random (2-4 uB/A^3, nothing to do with the label), the B blobs small and random; the X
blobs carry the label: all positive (class 1) or all negative (class 0), 0.3-0.6 uB/A^3."""

from __future__ import annotations

import numpy as np
import pandas as pd

GRID = (12, 12, 16)
A_CELL, C_CELL = 6.0, 16.0
FRAC = np.array([[0.25, 0.25, 0.5], [0.75, 0.75, 0.5],            # A1, A2
                 [0.0, 0.0, 0.5], [0.5, 0.5, 0.5],                 # B1, B2
                 [0.25, 0.75, 0.41], [0.75, 0.25, 0.41], [0.0, 0.5, 0.41],   # X below
                 [0.25, 0.75, 0.59], [0.75, 0.25, 0.59], [0.5, 0.0, 0.59]])  # X above
A2_ELEMENTS = ("Cr", "V", "Mn", "Fe", "Co", "Ni", "Ti", "Sc", "Cu", "Zn")
B_ELEMENTS = ("Ge2", "Si2", "GeSi", "P2")


def blob(centre: np.ndarray, width_A: float = 0.7) -> np.ndarray:
    """A unit-height periodic Gaussian on GRID around fractional ``centre``."""
    axes = [np.arange(n) / n for n in GRID]
    f = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1) - centre
    f -= np.round(f)
    cart = f * np.array([A_CELL, A_CELL, C_CELL])
    return np.exp(-(cart**2).sum(-1) / (2 * width_A**2))


class PlantedSites:
    """``.index`` (with lattice, volume, species, frac_coords), ``.labels``, ``.spin``."""

    def __init__(self, n: int = 40, seed: int = 0, shuffle: bool = False) -> None:
        rng = np.random.default_rng(seed)
        blobs = [blob(c) for c in FRAC]
        rows, labels, self._spin = [], [], {}
        lattice = [A_CELL, 0, 0, 0, A_CELL, 0, 0, 0, C_CELL]
        for i in range(n):
            a2 = A2_ELEMENTS[i % len(A2_ELEMENTS)]
            b = B_ELEMENTS[(i // len(A2_ELEMENTS)) % len(B_ELEMENTS)]
            name = f"Cr{a2}{b}Te6" if a2 != "Cr" else f"Cr2{b}Te6"
            name = name if i < 40 else f"{name}_{i}"
            label = i % 2
            m = np.zeros(GRID)
            for k in (0, 1):
                m += rng.uniform(-6.0, 6.0) * blobs[k]
            for k in (2, 3):
                m += rng.uniform(-0.3, 0.3) * blobs[k]
            sign = 1.0 if label else -1.0
            for k in range(4, 10):
                m += sign * rng.uniform(0.3, 0.6) * blobs[k]
            sid = f"{name}/FM"
            species = ["Cr", a2, *self._b(b), *["Te"] * 6]
            rows.append({"sample_id": sid, "composite": name, "configuration": "FM",
                         "lattice_A": lattice, "volume_A3": A_CELL * A_CELL * C_CELL,
                         "species": species, "frac_coords": FRAC.tolist()})
            self._spin[sid] = m.astype(np.float32)
            labels.append({"composite": name, "ground_state": label})
        self.index = pd.DataFrame(rows)
        self.labels = pd.DataFrame(labels)
        if shuffle:
            self.labels["ground_state"] = rng.permutation(self.labels["ground_state"].to_numpy())
        self.train_grid = GRID

    @staticmethod
    def _b(b: str) -> list[str]:
        return {"Ge2": ["Ge", "Ge"], "Si2": ["Si", "Si"], "GeSi": ["Ge", "Si"],
                "P2": ["P", "P"]}[b]

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        """Magnetization density (Nx, Ny, Nz) float32, uB/A^3."""
        return self._spin[sample_id]
