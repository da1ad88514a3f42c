"""Moments in spheres around the A sites: the site part of the baseline that reads the densities.

A sites: the first two magnetic-metal sites (transition metals, lanthanides, actinides) in the
sample's own site order. The A2B2X6 prototype lists its atoms A1, A2, B1, B2, X x6 and a magvox
run groups them by species in that order (data_prep.dft.structures,
data_prep.dft.runs.build_atoms), so
these are A1 and A2 of the 10-atom hexagonal cell (in the 20-atom rectangular cell, A1 and its
image). A structure with one such site has NaN for A2.

Radius: one radius, SITE_RADIUS_A = 1.2 A, for every element. It is about the augmentation
sphere GPAW integrates its per-site moments over for Cr (largest partial-wave cutoff of the Cr
PBE setup: 2.3 bohr = 1.22 A), so the A1 moment can be set beside the moments GPAW reports
(measured on the 328 bundled runs: the 1.2 A sphere of the stored pseudo-density, on the
training grid, holds 1.035 to 1.042 times GPAW's Cr moment); one radius for
all elements integrates the same volume in every composite, so the feature compares like with
like; and it reaches about half way to the nearest neighbour (the shortest A-X bond of the
bundled runs is 2.37 A, Ni-S in CrNiGeSiS6), so a sphere holds its own atom's moment, not the
ligands'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SITE_RADIUS_A = 1.2
N_SITES = 2  # A1, A2


def is_magnetic_metal(symbol: str) -> bool:
    """Transition metal, lanthanide or actinide (pymatgen's element tables)."""
    from pymatgen.core import Element

    e = Element(symbol)
    return bool(e.is_transition_metal or e.is_lanthanoid or e.is_actinoid)


def a_site_indices(species: list[str]) -> list[int]:
    """Indices of the first two magnetic-metal sites (A1, A2); fewer when there are fewer."""
    return [i for i, s in enumerate(species) if is_magnetic_metal(s)][:N_SITES]


def _interplanar_A(lattice_A: np.ndarray) -> np.ndarray:
    """(3,) spacings of the lattice planes normal to a*, b*, c*, A."""
    return 1.0 / np.linalg.norm(np.linalg.inv(lattice_A).T, axis=1)


def sphere_moment(spin: np.ndarray, lattice_A: np.ndarray, centre_frac: np.ndarray,
                  radius_A: float = SITE_RADIUS_A) -> float:
    """Integral of ``spin`` (Nx, Ny, Nz) uB/A^3 over the sphere of ``radius_A`` around the
    fractional position ``centre_frac`` (3,), uB: the sum of the grid points inside times
    V_cell / N_grid. Grid point [i, j, k] sits at (i/Nx, j/Ny, k/Nz). The sphere is cut from the
    periodic density: the box of grid points around the centre is unwrapped (each point at its
    true distance from the centre, the minimum image while the sphere fits the cell) and read
    modulo the grid, so a site at a cell edge or a cell smaller than the sphere is exact too.
    """
    lattice_A = np.asarray(lattice_A, dtype=np.float64)
    n = np.array(spin.shape)
    half = np.ceil(radius_A / _interplanar_A(lattice_A) * n).astype(int)  # points either side
    centre = np.mod(np.asarray(centre_frac, dtype=np.float64), 1.0) * n  # in grid units
    start = np.floor(centre).astype(int) - half
    steps = [np.arange(start[d], start[d] + 2 * half[d] + 2) for d in range(3)]
    offsets = [(steps[d] - centre[d]) / n[d] for d in range(3)]  # fractional, unwrapped
    cart = (offsets[0][:, None, None, None] * lattice_A[0]
            + offsets[1][None, :, None, None] * lattice_A[1]
            + offsets[2][None, None, :, None] * lattice_A[2])  # (bx, by, bz, 3) A
    inside = np.einsum("...i,...i->...", cart, cart) < radius_A**2
    block = spin[np.ix_(*(steps[d] % n[d] for d in range(3)))]  # (bx, by, bz), periodic
    volume = abs(float(np.linalg.det(lattice_A)))
    return float(block[inside].sum(dtype=np.float64) * volume / spin.size)


def a_site_moments(spin: np.ndarray, lattice_A: np.ndarray, species: list[str],
                   frac_coords: np.ndarray, radius_A: float = SITE_RADIUS_A) -> np.ndarray:
    """(2,) float64 moments (uB) in the spheres around A1 and A2 of one density (Nx, Ny, Nz),
    uB/A^3, of the cell ``lattice_A`` (3, 3) holding ``species`` at ``frac_coords`` (N, 3);
    NaN for a missing A site."""
    out = np.full(N_SITES, np.nan)
    for j, site in enumerate(a_site_indices(species)):
        out[j] = sphere_moment(spin, lattice_A, frac_coords[site], radius_A)
    return out


class NoSiteInformation(ValueError):
    """Site moments were asked of a dataset whose samples do not record their atoms."""


def _no_sites_message(ds: Any, index: Any, lacking: list[str]) -> str:
    """One line: which dataset (the stores of a multi-store one) lacks atoms, and the fix."""
    name = str(getattr(ds, "path", "in-memory dataset"))
    if "store" in index.columns:
        stores = sorted(set(index.loc[index["sample_id"].isin(lacking), "store"]))
        name = ", ".join(map(str, stores))
    return (f"dataset {name} has no site information ({len(lacking)} samples without species "
            "and positions): run `python -m data_prep.dataset.add_structures STORE RUNS` (make "
            "structures) or `magvox prep` its runs again to add it")


def site_moments_of(ds: Any, runs: list[list[str]], spin: np.ndarray, required: bool = False
                    ) -> np.ndarray | None:
    """(S, K, 2) float64 A1 and A2 sphere moments, uB, of the densities ``spin`` (S, [K,] Nx, Ny,
    Nz) in uB/A^3 of the samples ``runs`` (S lists of K sample ids) of dataset ``ds`` (its index
    holds lattice_A, species, frac_coords: data_prep.dataset.site_info). Where a sample lacks its
    atoms:
    None, or NoSiteInformation when ``required``."""
    from data_prep.dataset.site_info import row_structure

    index = ds.index
    rows = index.set_index("sample_id") if "sample_id" in index.columns else index
    atoms = {sid: row_structure(rows.loc[sid]) for sample in runs for sid in sample}
    lacking = [sid for sid, found in atoms.items() if found is None]
    if "lattice_A" not in rows.columns:
        lacking = list(atoms)
    if lacking:
        if required:
            raise NoSiteInformation(_no_sites_message(ds, index, lacking))
        return None
    per_config = spin if spin.ndim == 5 else spin[:, None]  # (S, K, Nx, Ny, Nz), a view
    out = np.empty((len(runs), per_config.shape[1], N_SITES))
    for i, sample in enumerate(runs):
        for k, sid in enumerate(sample):
            lattice = np.asarray(rows.loc[sid, "lattice_A"], dtype=np.float64).reshape(3, 3)
            species, frac = atoms[sid]  # type: ignore[misc]
            out[i, k] = a_site_moments(per_config[i, k], lattice, species, frac)
    return out
