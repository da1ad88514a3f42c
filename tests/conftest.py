"""Shared fixtures: the real VASP files in ../shared/data/real (never copied into the project).

When ``CI`` is set, a missing ``../shared`` is an error, not a skip: real-data tests must run in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"


def real_data_dir() -> Path:
    """The real-data folder; fails under CI when it is missing, skips elsewhere."""
    if REAL.is_dir():
        return REAL
    if os.environ.get("CI"):
        pytest.fail(f"{REAL} is missing: real-data tests must not skip in CI", pytrace=False)
    pytest.skip(f"{REAL} not present")


@pytest.fixture(scope="session")
def real() -> Path:
    """Path to ../shared/data/real."""
    return real_data_dir()


@pytest.fixture(scope="session")
def bundled_dataset() -> Path:
    """The committed dataset under data/ (built by data_prep from the GPAW campaign)."""
    path = REPO / "data" / "cgt_te.zarr"
    if not path.exists():
        pytest.fail(f"bundled dataset {path} is missing", pytrace=False)
    return path
