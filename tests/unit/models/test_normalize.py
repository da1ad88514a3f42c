"""The p99 input scale's order statistic: exact, whatever the distribution of the voxels."""

import numpy as np
import pytest
import torch

from models.normalize import kth_smallest


@pytest.mark.parametrize("n", [1, 7, 1000, 300_001])
@pytest.mark.parametrize("kind", ["uniform", "zeros", "heavy-tailed", "few values"])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.99, 0.9999, 1.0])
def test_kth_smallest_is_numpys_partition_element(n, kind, q):
    g = torch.Generator().manual_seed(n)
    values = {
        "uniform": lambda: torch.rand(n, generator=g),
        "zeros": lambda: torch.zeros(n),
        "heavy-tailed": lambda: torch.randn(n, generator=g).abs() ** 6,  # a few core voxels
        "few values": lambda: torch.randint(0, 3, (n,), generator=g).float(),  # ties at the bound
    }[kind]()
    kth = int(q * (n - 1))
    assert kth_smallest(values, kth) == np.partition(values.numpy(), kth)[kth]
