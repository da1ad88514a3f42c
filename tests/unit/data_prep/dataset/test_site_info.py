"""Each sample carries its atoms: prep records them from the volumetric file, the bundled stores
got them from their runs' POSCARs (data_prep.dataset.add_structures), sources are relative, and a
store
without them refuses site moments in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pymatgen.io.vasp.inputs import Poscar
from pymatgen.io.vasp.outputs import Chgcar

from data_prep.dataset.add_structures import add_structures, planned_updates
from data_prep.dataset.prep import prepare_dataset
from data_prep.dataset.store import (
    open_dataset,
    rebuild_tables,
    resolve_source,
    sample_rows,
    update_sample_attrs,
)

REPO = Path(__file__).resolve().parents[4]
BUNDLED = [("cgt_te.zarr", "campaign"), ("cgt_se.zarr", "campaign_se"),
           ("cgt_s.zarr", "campaign_s")]
NEW_COLUMNS = ("species", "frac_coords", "site_moments_reported_uB")


def test_prep_of_a_real_vasp_chgcar_stores_its_structure(real, tmp_path):
    """NiO (VASP 5.4, SOC, scale factor 4.17, rhombohedral): the stored species and fractional
    coordinates are pymatgen's own reading of the file, the source is relative to the store's
    folder, and the OUTCAR's per-site moments travel with the sample."""
    run = tmp_path / "runs" / "NiO" / "AFM-Neel"
    run.mkdir(parents=True)
    shutil.copy(real / "NiO_SOC_AFM_grid28.CHGCAR.gz", run / "CHGCAR.gz")
    shutil.copy(real / "NiO_SOC_AFM.OUTCAR.gz", run / "OUTCAR.gz")
    prepare_dataset([tmp_path / "runs"], tmp_path / "ds.zarr", workers=0, store_train=False)
    row = open_dataset(tmp_path / "ds.zarr").index.iloc[0]
    reference = Chgcar.from_file(str(run / "CHGCAR.gz")).structure
    assert list(row.species) == [s.specie.symbol for s in reference] == ["Ni", "Ni", "O", "O"]
    np.testing.assert_allclose(np.stack(row.frac_coords), reference.frac_coords, atol=1e-12)
    assert row.source == "runs/NiO/AFM-Neel/CHGCAR.gz"
    assert resolve_source(tmp_path / "ds.zarr", row.source) == str(run / "CHGCAR.gz")
    assert row.site_moments_reported_uB[:2] == pytest.approx([1.671, -1.671], abs=1e-3)


def test_a_vasp4_header_takes_its_species_from_the_poscar_beside_it(real, tmp_path):
    """A VASP 4 CHGCAR names no species (pymatgen would call them H): stored as unknown, unless
    a POSCAR with the same cell in the run folder names them."""
    source = real / "VASP4header_8atom_orthorhombic_nospin.CHGCAR.gz"
    species = {}
    for name in ("bare", "with_poscar"):  # one store each: the two files hash alike
        run = tmp_path / name / "G" / "NM"
        run.mkdir(parents=True)
        shutil.copy(source, run / "CHGCAR.gz")
        if name == "with_poscar":
            header = Chgcar.from_file(str(source)).structure
            header.replace_species({header[0].specie: "C"})
            Poscar(header).write_file(run / "POSCAR")
        prepare_dataset([tmp_path / name], tmp_path / f"{name}.zarr", workers=0,
                        store_train=False)
        species[name] = open_dataset(tmp_path / f"{name}.zarr").index.iloc[0].species
    assert species["bare"] is None
    assert list(species["with_poscar"]) == ["C"] * 8


@pytest.mark.parametrize("store, runs", BUNDLED)
def test_bundled_stores_hold_the_structures_of_their_poscars(store, runs):
    """Every sample of the bundled stores: species and coordinates as pymatgen reads the run's
    POSCAR, per-site moments as its magvox_run.json, a relative source inside the repository;
    running the migration again would change nothing."""
    rows = sample_rows(REPO / "data" / store)
    assert len(rows) >= 100
    for row in rows:
        assert not Path(row["source"]).is_absolute()
        folder = Path(resolve_source(REPO / "data" / store, row["source"])).parent
        assert folder == REPO / "data" / runs / row["composite"] / row["configuration"]
        poscar = Poscar.from_file(str(folder / "POSCAR")).structure
        assert row["species"] == [s.specie.symbol for s in poscar]
        np.testing.assert_array_equal(np.array(row["frac_coords"]), poscar.frac_coords)
        record = json.loads((folder / "magvox_run.json").read_text())
        assert row["site_moments_reported_uB"] == record["site_moments_uB"]
    assert planned_updates(REPO / "data" / store, REPO / "data" / runs) == {}


@pytest.fixture
def old_store(tmp_path) -> tuple[Path, Path]:
    """Four samples of the bundled Te store (two composites, FM and AFM-Neel) as a store made
    before samples carried atoms (absolute sources of another machine), and their run folders."""
    src = REPO / "data" / "cgt_te.zarr"
    store, runs = tmp_path / "data" / "old.zarr", tmp_path / "data" / "campaign"
    store.mkdir(parents=True)
    shutil.copy(src / "zarr.json", store / "zarr.json")
    for row in sample_rows(src):
        if row["composite"] not in ("CrVGe2Te6", "CrNiGe2Te6"):
            continue
        shutil.copytree(src / "samples" / row["sample_id"], store / "samples" / row["sample_id"])
        meta = store / "samples" / row["sample_id"] / "zarr.json"
        attrs = json.loads(meta.read_text())
        for key in NEW_COLUMNS:
            attrs["attributes"].pop(key)
        attrs["attributes"]["source"] = f"/elsewhere/data/campaign/{row['composite']}/" \
                                        f"{row['configuration']}/CHGCAR"
        meta.write_text(json.dumps(attrs))
        shutil.copytree(REPO / "data" / "campaign" / row["composite"] / row["configuration"],
                        runs / row["composite"] / row["configuration"])
    rebuild_tables(store)
    return store, runs


def test_a_store_without_atoms_refuses_site_moments_in_one_line(old_store):
    from models.data import NoSiteInformation, load_samples

    store, _ = old_store
    samples = load_samples(store, "ground_state", "FM")
    assert samples.integrals_uB.shape == (2, 1, 2)  # the two cell integrals, as before
    with pytest.raises(NoSiteInformation) as err:
        load_samples(store, "ground_state", "FM", site_moments=True)
    message = str(err.value)
    assert "\n" not in message and f"dataset {store} has no site information" in message
    assert "python -m data_prep.dataset.add_structures" in message


def test_the_migration_fills_an_old_store_and_then_site_moments_work(old_store):
    from models.data import load_samples

    store, runs = old_store
    chunks = {p: p.read_bytes() for p in store.rglob("c/*/*/*")}
    assert add_structures(store, runs) == 4 and add_structures(store, runs) == 0
    assert {p: p.read_bytes() for p in store.rglob("c/*/*/*")} == chunks  # no density touched
    index = open_dataset(store).index
    assert set(index.source) == {f"campaign/{c}/{k}/CHGCAR" for c in ("CrVGe2Te6", "CrNiGe2Te6")
                                 for k in ("FM", "AFM-Neel")}
    samples = load_samples(store, "ground_state", "FM", site_moments=True)
    assert samples.integrals_uB.shape == (2, 1, 4)


def test_the_migration_refuses_a_run_that_is_not_the_samples_and_writes_nothing(old_store):
    store, runs = old_store
    other = REPO / "data" / "campaign" / "CrCoGe2Te6" / "FM" / "POSCAR"  # another lattice
    shutil.copy(other, runs / "CrVGe2Te6" / "FM" / "POSCAR")
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"(?s)1 samples have no matching run.*CrVGe2Te6/FM/"
                                         r"POSCAR: lattice .* = \[6.6697, 6.6697, 20.0\] A, the "
                                         r"sample's lattice_A \[7.0026"):
        add_structures(store, runs)
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


def test_a_prep_rerun_knows_samples_recorded_with_old_absolute_sources(real, tmp_path):
    """A store made before sources were relative: prep still finds its samples by (path, size,
    mtime) and adds nothing."""
    run = tmp_path / "runs" / "Fe" / "FM"
    run.mkdir(parents=True)
    shutil.copy(real / "Fe_bcc_prim_spin.CHGCAR", run / "CHGCAR")
    out = tmp_path / "ds.zarr"
    prepare_dataset([tmp_path / "runs"], out, workers=0, store_train=False)
    row = sample_rows(out)[0]
    assert row["source"] == "runs/Fe/FM/CHGCAR"
    update_sample_attrs(out, row["sample_id"], {"source": str(run / "CHGCAR")})
    again = prepare_dataset([tmp_path / "runs"], out, workers=0, store_train=False)
    assert again.added == [] and again.existing == 1 and again.replaced == []
