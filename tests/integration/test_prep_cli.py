"""``magvox prep`` end to end on a tree of real files: index, rejected.csv, exit code 3,
idempotent re-run, and a kill -9 mid-way followed by a re-run giving the same store."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from data_prep.dataset.store import open_dataset
from data_prep.io.chgcar import write_chgcar
from data_prep.io.volumetric import read_volumetric

TREE = [  # (composite, configuration, real file, name in the run folder)
    ("Fe", "FM", "Fe_bcc_prim_spin.CHGCAR", "CHGCAR"),
    ("Fe", "NM", "Fe_bcc_prim_nospin.CHGCAR", "CHGCAR"),
    ("NiO", "AFM-Neel", "NiO_SOC_AFM_grid28.CHGCAR.gz", "CHGCAR.gz"),
    ("NiO", "AFM-Neel", "NiO_SOC_AFM.OUTCAR.gz", "OUTCAR.gz"),
    ("Li", "FM", "Li_spin_grid48.CHGCAR.gz", "CHGCAR.gz"),
    ("Co", "FM", "format_fixtures/Co_monolayer_TRUNCATED_spin.CHGCAR", "CHGCAR"),
]


def _prep(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "search.commands.cli", "prep", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def tree(real, tmp_path) -> Path:
    root = tmp_path / "runs"
    for comp, conf, src, name in TREE:
        (root / comp / conf).mkdir(parents=True, exist_ok=True)
        shutil.copy(real / src, root / comp / conf / name)
    data = (real / "Fe_bcc_prim_spin.CHGCAR").read_bytes()
    (root / "Bad" / "FM").mkdir(parents=True)
    (root / "Bad" / "FM" / "CHGCAR").write_bytes(data[: len(data) // 2])  # the corrupt copy
    failed = root / "CrVGe2Te6" / "FM"
    failed.mkdir(parents=True)
    (failed / "magvox_run.json").write_text(json.dumps(
        {"schema": 1, "engine": "gpaw", "composite": "CrVGe2Te6", "configuration": "FM",
         "status": "failed", "reason": "SCF did not converge"}))
    return root


@pytest.mark.slow
def test_prep_tree_ray_then_noop(tree, tmp_path):
    out = tmp_path / "ds.zarr"
    first = _prep(str(tree), "--out", str(out), "--workers", "1")  # a private local Ray cluster
    assert first.returncode == 3, first.stderr
    ds = open_dataset(out)
    index = ds.index.set_index("sample_id")
    assert sorted(zip(index.composite, index.configuration, strict=True)) == [
        ("Co", "FM"), ("Fe", "FM"), ("Fe", "NM"), ("Li", "FM"), ("NiO", "AFM-Neel")]
    fe = index[(index.composite == "Fe") & (index.configuration == "FM")].iloc[0]
    assert fe.moment_uB == pytest.approx(2.27, abs=5e-3) and fe.electrons == pytest.approx(8, 1e-3)
    nio = index[index.composite == "NiO"].iloc[0]
    assert nio.spin_kind == "noncollinear" and nio.energy_eV == pytest.approx(-19.605, abs=1e-3)
    assert index.loc[index.configuration == "NM", "abs_moment_uB"].iloc[0] == 0.0
    for sid in index.index:
        spin = ds.spin(sid)
        assert spin.shape == (60, 60, 120) and np.isfinite(spin).all()
        moment = spin.astype(np.float64).mean() * index.loc[sid, "volume_A3"]
        assert moment == pytest.approx(index.loc[sid, "moment_uB"], rel=1e-3, abs=1e-5)
    with open(out / "rejected.csv") as fh:
        rows = list(csv.DictReader(fh))
    rejected = {Path(r["path"]).relative_to(tree).parts[0]: r["reason"] for r in rows}
    assert set(rejected) == {"Bad", "CrVGe2Te6"}
    assert "truncated" in rejected["Bad"] and "SCF did not converge" in rejected["CrVGe2Te6"]
    labels = ds.labels.set_index("composite")
    assert labels.loc["Fe", "moment_class"] == 0 and set(labels.index) == {"Co", "Fe", "Li", "NiO"}

    start = time.perf_counter()
    second = _prep(str(tree), "--out", str(out), "--workers", "0")
    assert second.returncode == 3 and "0 added" in second.stdout
    assert time.perf_counter() - start < 30
    assert open_dataset(out).index.equals(ds.index)


def _variants(real, root: Path, n: int) -> None:
    """n distinct spin CHGCARs from the real Fe file (magnetization scaled), V<k>/FM/CHGCAR."""
    fe = read_volumetric(real / "Fe_bcc_prim_spin.CHGCAR")
    for k in range(n):
        (root / f"V{k}" / "FM").mkdir(parents=True)
        write_chgcar(root / f"V{k}" / "FM" / "CHGCAR", fe.structure, fe.total_e_per_A3,
                     fe.magnetization_uB_per_A3 * (1 + 0.1 * k))


@pytest.mark.slow
def test_kill9_midway_then_rerun_gives_same_store(real, tmp_path):
    root = tmp_path / "runs"
    _variants(real, root, 10)
    killed, clean = tmp_path / "killed.zarr", tmp_path / "clean.zarr"
    cmd = [sys.executable, "-m", "search.commands.cli", "prep", str(root), "--out", str(killed),
           "--workers", "0", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        samples = killed / "samples"
        if samples.is_dir() and len(os.listdir(samples)) >= 2:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = open_dataset(killed)  # opens; holds only complete samples
    assert 1 <= len(partial) < 10
    for sid in partial.index.sample_id:
        assert partial.spin(sid).shape == (60, 60, 120)
    assert _prep(str(root), "--out", str(killed), "--workers", "0").returncode == 0
    assert _prep(str(root), "--out", str(clean), "--workers", "0").returncode == 0
    a, b = open_dataset(killed), open_dataset(clean)
    cols = ["sample_id", "composite", "configuration", "sha256", "moment_uB", "native_grid"]
    assert a.index[cols].equals(b.index[cols]) and len(a) == 10
    for sid in a.index.sample_id:
        assert np.array_equal(a.spin(sid), b.spin(sid))
    assert not (killed / "_tmp").exists() or not os.listdir(killed / "_tmp")


def test_a_rerun_replaces_its_sample_and_a_missing_source_keeps_it(real, tmp_path):
    from data_prep.dataset.prep import prepare_dataset

    root, out = tmp_path / "runs", tmp_path / "ds.zarr"
    _variants(real, root, 2)
    first = prepare_dataset([root], out, workers=0)
    assert len(first.added) == 2 and first.replaced == []
    before = open_dataset(out).index.set_index("composite")
    fe = read_volumetric(real / "Fe_bcc_prim_spin.CHGCAR")
    target = root / "V0" / "FM" / "CHGCAR"  # V0 FM run again, with other settings
    write_chgcar(target, fe.structure, fe.total_e_per_A3, fe.magnetization_uB_per_A3 * 0.5)
    second = prepare_dataset([root], out, workers=0)
    assert len(second.added) == 1 and second.replaced == [before.loc["V0", "sample_id"]]
    assert "1 replaced by a re-run" in second.summary()
    after = open_dataset(out).index.set_index("composite")
    assert len(after) == 2  # one sample per run, not the old and the new one
    assert after.loc["V0", "moment_uB"] == pytest.approx(0.5 * before.loc["V0", "moment_uB"])
    assert after.loc["V1", "sample_id"] == before.loc["V1", "sample_id"]
    shutil.rmtree(root / "V1")  # a fresh clone has no CHGCARs: the store keeps their samples
    third = prepare_dataset([root], out, workers=0)
    assert third.replaced == [] and len(open_dataset(out).index) == 2
