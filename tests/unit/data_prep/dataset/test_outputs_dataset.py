"""Run outputs (OUTCAR/OSZICAR), Fourier regrid and the Zarr dataset on real data."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.dataset.regrid import fourier_regrid
from data_prep.dataset.store import create_store, open_dataset, rebuild_tables, write_sample
from data_prep.io.outputs import read_outcar, read_run_outputs
from data_prep.io.volumetric import read_volumetric


def test_outcar_moments(real):
    fe = read_outcar(real / "outcar_samples" / "Fe2_bcc_spin_M4.21.OUTCAR")
    assert fe.moment_uB == pytest.approx(4.2125, rel=1e-4)
    co = read_outcar(real / "outcar_samples" / "Co_spin_M6.44.OUTCAR.gz")
    assert co.moment_uB == pytest.approx(6.44, rel=1e-3)
    assert len(co.site_moments_uB) == 4 and min(co.site_moments_uB) > 1.6
    nio = read_outcar(real / "NiO_SOC_AFM.OUTCAR.gz")
    assert nio.site_moments_uB[:2] == pytest.approx([1.671, -1.671], rel=1e-3)
    assert abs(nio.moment_uB) < 1e-3


def test_full_job_folder(real):
    out = read_run_outputs(real / "Fe2_bcc_cubic_nospin_fulljob")
    assert out.energy_eV == pytest.approx(-17.738, abs=1e-3)  # OSZICAR/OUTCAR free energy F
    assert out.moment_uB is None  # ISPIN=1


@pytest.mark.parametrize("name", ["Fe_bcc_prim_spin.CHGCAR", "NiO_SOC_AFM_grid28.CHGCAR.gz",
                                  "format_fixtures/Co_monolayer_TRUNCATED_spin.CHGCAR"])
def test_regrid_preserves_moment(real, name):
    vol = read_volumetric(real / name)
    train = fourier_regrid(vol.magnetization_uB_per_A3, (60, 60, 120)).astype(np.float32)
    moment = float(train.astype(np.float64).mean() * vol.volume_A3)
    assert moment == pytest.approx(vol.moment(), rel=1e-3, abs=1e-6)


def test_regrid_band_limited_exact():
    i, j, k = np.meshgrid(*(np.arange(n) / n for n in (12, 12, 24)), indexing="ij")
    coarse = 1 + np.cos(2 * np.pi * i) * np.sin(4 * np.pi * k) + np.cos(2 * np.pi * j)
    fine = fourier_regrid(coarse, (60, 60, 120))
    np.testing.assert_allclose(fourier_regrid(fine, (12, 12, 24)), coarse, atol=1e-12)
    assert fine.mean() == pytest.approx(coarse.mean(), rel=1e-12)


def test_store_round_trip_and_stale_tmp(real, tmp_path):
    vol = read_volumetric(real / "Fe_bcc_prim_spin.CHGCAR")
    store = create_store(tmp_path / "ds.zarr")
    (store / "_tmp" / "half-written").mkdir(parents=True)  # as a kill -9 leaves it
    row = {"sample_id": "Fe_FM_x", "composite": "Fe", "configuration": "FM", "sha256": "x",
           "source": "s", "moment_uB": vol.moment(), "moment_reported_uB": None,
           "energy_eV": -1.0, "native_grid": "28x28x28"}
    spin = vol.magnetization_uB_per_A3
    assert write_sample(store, "Fe_FM_x", row, spin, fourier_regrid(spin))
    assert not write_sample(store, "Fe_FM_x", row, spin, fourier_regrid(spin))
    ds = open_dataset(store)  # index.parquet not written yet: rebuilt from sample attrs
    assert list(ds.index.sample_id) == ["Fe_FM_x"]
    assert ds.spin("Fe_FM_x").shape == (60, 60, 120) and ds.spin("Fe_FM_x").dtype == np.float32
    assert np.array_equal(ds.spin("Fe_FM_x", grid="native"), spin.astype(np.float32))
    _index, labels = rebuild_tables(store)
    assert labels.loc[0, "moment_uB"] == pytest.approx(2.2725, rel=1e-3)
    assert labels.loc[0, "moment_class"] == 0
    create_store(store)
    assert not (store / "_tmp").exists()


def test_labels_ground_state():
    import pandas as pd

    from data_prep.dataset.labels import compute_labels

    index = pd.DataFrame({"composite": ["A", "A", "A", "B", "B"],
                          "configuration": ["FM", "AFM-Neel", "NM", "FM", "AFM-Neel"],
                          "energy_eV": [-10.0, -9.5, -8.0, -5.0, -5.2],
                          "moment_uB": [6.0, 0.0, 0.0, 3.0, 0.0],
                          "moment_reported_uB": [6.1, 0.0, None, None, 0.0]})
    labels = compute_labels(index).set_index("composite")
    assert labels.loc["A", "ground_state"] == 1 and labels.loc["B", "ground_state"] == 0
    assert labels.loc["A", "exchange_energy_eV"] == pytest.approx(0.5)
    assert labels.loc["A", "moment_uB"] == 6.1 and labels.loc["A", "moment_class"] == 1
    assert labels.loc["B", "moment_uB"] == 3.0 and labels.loc["B", "moment_class"] == 0


def test_labels_collapsed_and_degenerate_afm():
    """A Neel start that converged back into FM means FM; two distinct states within 1 meV: unknown.

    Also: a zigzag run (20-atom cell, own k-mesh) never enters the FM/AFM comparison.
    """
    import pandas as pd

    from data_prep.dataset.labels import compute_labels

    index = pd.DataFrame({
        "composite": ["Co", "Co", "Deg", "Deg", "Zz", "Zz", "Zz"],
        "configuration": ["FM", "AFM-Neel", "FM", "AFM-Neel", "FM", "AFM-Neel", "AFM-zigzag"],
        "energy_eV": [-42.7719, -42.77188, -7.0, -7.0004, -10.0, -9.9, -20.5],
        "moment_uB": [3.001, 3.000, 4.0, 1.0, 6.0, 0.0, 0.0],
        "moment_reported_uB": [None] * 7,
    })  # fmt: skip
    labels = compute_labels(index).set_index("composite")
    assert labels.loc["Co", "ground_state"] == 1 and labels.loc["Co", "afm_collapsed"]
    assert pd.isna(labels.loc["Deg", "ground_state"]) and not labels.loc["Deg", "afm_collapsed"]
    assert labels.loc["Zz", "ground_state"] == 1  # -20.5 eV of 20 atoms is not compared
    assert labels.loc["Zz", "exchange_energy_eV"] == pytest.approx(0.1)
