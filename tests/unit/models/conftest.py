"""Fixtures of the models tests (the helpers live in magdata_fake.py)."""

from __future__ import annotations

import pytest
from magdata_fake import FakeDataset


@pytest.fixture
def fake_dataset() -> FakeDataset:
    """20 composites on an (8, 8, 12) grid, FM and AFM-Neel densities each."""
    return FakeDataset()
