"""Bad input to the CLI is one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_support import magvox, write_tiny_dataset

CASES = [
    (["search", "start", "--space", "broken.yaml"], "broken.yaml: not valid YAML at line 2"),
    (["search", "start", "--space", "nosuch"], "nosuch: no such file and no bundled space"),
    (["search", "start", "--set", "target=spin"], "target 'spin' is not one of"),
    (["search", "start", "--set", "lr"], "--set 'lr': expected KEY=VALUE"),
    (["search", "resume", "nosuch"], "no search 'nosuch'"),
    (["search", "best", "nosuch"], "no search 'nosuch'"),
    (["search", "extend", "nosuch", "--trials", "2"], "no search 'nosuch'"),
    (["search", "start", "--set", "settings.gpu_per_trial=0"],
     "settings: unknown ['gpu_per_trial'] (known: checkpoint_every_s, cpus_per_trial,"),
    (["search", "start", "--space", "table2", "--dataset", "tiny.zarr", "--name", "t2"],
     "search t2: settings.gpus_per_trial is 0.25 and the Ray cluster has 0 GPUs: no trial "
     "could start (--set settings.gpus_per_trial: 0 trains on CPUs;"),
    (["search", "start", "--dataset", "missing.zarr"], "missing.zarr does not exist"),
    (["train", "--set", "input_norm=zscore", "--dataset", "tiny.zarr"],
     "input_norm: 'zscore' is not one of none, p99, mean"),
    (["train", "--set", "augment=rotate", "--set", "lattice=1", "--dataset", "tiny.zarr"],
     "lattice: unknown hyperparameter"),
    (["train", "--set", "lr=abc", "--dataset", "tiny.zarr"], "lr: expected a number, got 'abc'"),
    (["train", "--preset", "seed-small", "--set", "epochs=[5]", "--dataset", "tiny.zarr"],
     "epochs: expected an integer, got [5]"),
    (["estimate", "--set", "tiling=2x2x1"],
     "tiling: expected an integer or a list of integers, e.g. [4, 4], got '2x2x1'"),
    (["generate", "--a2", "Ti", "--b", "GeGe", "--x", "Te", "--set", "mixing=0.1", "--out", "g"],
     "unknown GPAW parameter(s) ['mixing']; known: basis, xc, h"),
    (["generate", "--a2", "Ti", "--b", "GeGe", "--x", "Te", "--set", "mixer_method=sum",
      "--out", "g"], "mixer_method must be 'difference' (or unset), got 'sum'"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "broken.yaml").write_text("settings: [unclosed\n")
    (root / "notes").mkdir()
    (root / "notes" / "README.md").write_text("no runs here\n")
    write_tiny_dataset(root / "tiny.zarr")
    return root


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_bad_input_is_one_line(workdir, args, message):
    done = magvox(*args, cwd=workdir, check=False, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (workdir / "searches").exists()  # nothing written


def test_a_rotation_the_cells_lack_is_refused(workdir, tmp_path):
    import numpy as np

    from data_prep.dataset.store import create_store, rebuild_tables, write_sample

    store = tmp_path / "tilted.zarr"
    create_store(store, train_grid=(8, 10, 16))
    for i, a2 in enumerate(("V", "Mn", "Fe", "Co", "Ni", "Ti", "Cu", "Nb", "Y", "Ru")):
        for conf in ("FM", "AFM-Neel"):
            row = {"sample_id": f"Cr{a2}Ge2Te6_{conf}", "composite": f"Cr{a2}Ge2Te6",
                   "configuration": conf, "energy_eV": -1.0 if (conf == "FM") == (i % 2 == 0)
                   else -0.9, "moment_uB": 3.0 + i % 3, "moment_reported_uB": 3.0 + i % 3,
                   "volume_A3": 600.0,
                   "lattice_A": [5.0, 0, 0, 0, 6.0, 0, 1.0, 0.5, 20.0]}
            spin = np.full((8, 10, 16), 0.01, np.float32)
            write_sample(store, row["sample_id"], row, spin, spin)
    rebuild_tables(store)
    done = magvox("train", "--preset", "periodic-fast", "--set", "augment=rotate",
                  "--dataset", str(store), cwd=workdir, check=False, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "augment: the cells have no rotation about c" in done.stderr


@pytest.mark.parametrize("source, message", [
    ("/nonexistent", "magvox prep: /nonexistent: no such file or folder"),
    ("notes", "magvox prep: notes: no DFT run found in it (VASP run folders with CHGCAR"),
])
def test_prep_refuses_a_source_without_runs_and_writes_nothing(workdir, source, message):
    done = magvox("prep", source, "--out", "DS.zarr", "--workers", "0", cwd=workdir,
                  check=False, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith(message) and len(done.stderr.splitlines()) == 1
    assert not (workdir / "DS.zarr").exists()


def _one_class_store(path):
    """Eight made-up composites whose FM run is always the lower in energy: one class."""
    from data_prep.dataset.store import create_store, rebuild_tables, write_sample

    grid = (8, 8, 16)
    create_store(path, train_grid=grid)
    for a2 in ("V", "Mn", "Fe", "Co", "Ni", "Ti", "Cu", "Nb"):
        for conf, energy in (("FM", -1.0), ("AFM-Neel", -0.9)):
            row = {"sample_id": f"Cr{a2}Ge2Te6_{conf}", "composite": f"Cr{a2}Ge2Te6",
                   "configuration": conf, "energy_eV": energy, "moment_uB": 6.0,
                   "moment_reported_uB": 6.0, "volume_A3": 800.0,
                   "lattice_A": [6.8, 0, 0, -3.4, 5.889, 0, 0, 0, 20.0]}
            spin = np.full(grid, 0.01, np.float32)
            write_sample(path, row["sample_id"], row, spin, spin)
    rebuild_tables(path)
    return path


def test_train_refuses_a_class_with_fewer_composites_than_folds(workdir, tmp_path):
    from data_prep.dataset.store import open_dataset
    from models.data import test_composites

    store = _one_class_store(tmp_path / "one_class.zarr")
    dev = 8 - len(test_composites(open_dataset(store)))
    done = magvox("train", "--dataset", str(store), "--out", str(tmp_path / "run"), cwd=workdir,
                  check=False, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [
        "magvox train: folds: 3-fold cross-validation of ground_state needs at least 3 "
        f"development composites of each class; the dataset has {dev} of class 1 and 0 of "
        "class 0 (1 = FM ground state (E_FM < E_AFM), 0 = AFM)"]
    assert not (tmp_path / "run").exists()
