"""Filter pictures and arrays, and the once-per-node dataset copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.tracking.artifacts import axis_means, save_filters


def test_filters_saved_as_array_and_one_picture_per_filter(tmp_path: Path) -> None:
    w = np.random.default_rng(0).normal(size=(3, 2, 5, 5, 4)).astype(np.float32)
    files = save_filters(w, tmp_path)
    assert [f.name for f in files] == ["filters.npy", "filter_0.png", "filter_1.png",
                                       "filter_2.png"]
    assert np.array_equal(np.load(tmp_path / "filters.npy"), w)
    assert all(f.stat().st_size > 1000 for f in files[1:])


def test_axis_means_are_the_projections_along_a_b_c() -> None:
    k = np.zeros((3, 4, 5))
    k[1, :, :] = 1.0  # a plane at a = 1
    along_a, along_b, along_c = axis_means(k)
    assert along_a.shape == (4, 5) and np.allclose(along_a, 1 / 3)
    assert along_b.shape == (3, 5) and np.allclose(along_b[1], 1.0)
    assert along_c.shape == (3, 4) and np.allclose(along_c[0], 0.0)


def test_the_shared_copy_keeps_every_run_a_multi_configuration_input_reads(bundled_dataset):
    """``configuration=FM+AFM-Neel`` set for a search: the once-per-node copy holds both runs of
    each composite, and a trial reads from it the same arrays as from the store."""
    from models.data import load_samples
    from search.tune.data import configurations_of, load_shared

    space = {"fixed": {"configuration": "FM+AFM-Neel"}}
    assert configurations_of(space) == ["FM", "AFM-Neel"]
    assert configurations_of({"params": {"configuration": {"choices": ["FM", "FM+AFM-Neel"]}},
                              "fixed": {}}) == ["FM", "AFM-Neel"]
    assert configurations_of({"fixed": {}}) == ["FM"]
    shared = load_shared(bundled_dataset, configurations_of(space))
    counts = shared.samples_per_configuration()
    assert set(counts) == {"FM", "AFM-Neel"} and counts["AFM-Neel"] >= 50
    via_copy = load_samples(shared, "exchange_energy", "FM+AFM-Neel")
    direct = load_samples(bundled_dataset, "exchange_energy", "FM+AFM-Neel")
    assert via_copy.composites == direct.composites and len(via_copy.y) >= 50
    assert np.array_equal(via_copy.spin[-1], direct.spin[-1])
