"""``magvox predict --model`` through the real CLI: a network trained briefly on the bundled Te set
predicts every labelled composite with the probabilities its own training code gives (nothing
refitted), and datasets prepared by ``magvox prep`` from the real VASP files in
../shared/data/real are predicted, or refused in one line when they cannot feed the network.
(``magvox predict SEARCH``, with baselines, is in test_search_e2e.py: it needs a finished search.)
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from test_search_support import magvox

REAL_RUNS = [  # (composite, configuration, real file, name in the run folder)
    ("Fe", "FM", "Fe_bcc_prim_spin.CHGCAR", "CHGCAR"),
    ("Fe", "NM", "Fe_bcc_prim_nospin.CHGCAR", "CHGCAR"),
    ("Li", "FM", "Li_spin_grid48.CHGCAR.gz", "CHGCAR.gz"),
    ("NiO", "AFM-Neel", "NiO_SOC_AFM_grid28.CHGCAR.gz", "CHGCAR.gz"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, bundled_dataset: Path) -> Path:
    """The default learner trained one epoch (2 folds) on the bundled set, saved as a file."""
    from models.saved import save_model
    from models.train import run_trial
    from search.tune.sampling import default_learner

    result = run_trial(default_learner({"epochs": 1, "folds": 2}), bundled_dataset, device="cpu")
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_model(result.state_dict, result.config, path, grid=result.grid,
               target_scale=result.target_scale)
    return path


def prep_real(real: Path, folder: Path, runs: list[tuple], *grid: str) -> Path:
    """``magvox prep`` of run folders holding copies of the real files (in the test's temporary
    folder, as test_prep_cli.py does; never in the project); -> the store."""
    for comp, conf, src, name in runs:
        (folder / "runs" / comp / conf).mkdir(parents=True, exist_ok=True)
        shutil.copy(real / src, folder / "runs" / comp / conf / name)
    out = folder / "ds.zarr"
    magvox("prep", str(folder / "runs"), "--out", str(out), "--workers", "0", "--quiet",
           *(["--train-grid", *grid] if grid else []), cwd=folder)
    return out


def refused(trained: Path, dataset: Path, tmp: Path) -> str:
    """stderr of a predict that must exit 2 and write nothing."""
    done = magvox("predict", "--model", str(trained), "--dataset", str(dataset),
                  "--out", str(tmp / "p.csv"), cwd=tmp, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert not (tmp / "p.csv").exists() and not done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_a_real_dataset_on_another_grid_is_refused_by_name(real, trained, tmp_path):
    data = prep_real(real, tmp_path, REAL_RUNS, "28", "28", "28")
    err = refused(trained, data, tmp_path)
    assert (f"{data}: grid 28x28x28 but the model was trained on 60x60x120 "
            "(magvox prep --train-grid 60 60 120)") in err


def test_a_real_dataset_without_the_input_configuration_is_refused(real, trained, tmp_path):
    runs = [r for r in REAL_RUNS if r[1] != "FM"]  # Fe NM, NiO AFM-Neel: no FM density
    data = prep_real(real, tmp_path, runs)
    err = refused(trained, data, tmp_path)
    assert "no composite has the model's input configuration FM (its runs: AFM-Neel, NM)" in err


def test_real_vasp_composites_are_predicted_and_the_others_skipped(real, trained, tmp_path):
    data = prep_real(real, tmp_path, REAL_RUNS)
    done = magvox("predict", "--model", str(trained), "--dataset", str(data), "--json",
                  cwd=tmp_path)
    out = json.loads(done.stdout)
    assert [r["composite"] for r in out["rows"]] == ["Fe", "Li"]
    assert out["skipped"] == {"NiO": "no FM sample"}
    assert all(0.0 <= r["cnn_p1"] <= 1.0 and r["cnn_class"] == int(r["cnn_p1"] >= 0.5)
               for r in out["rows"])
    assert any("no baselines" in line or "baselines: none" in line for line in out["header"])


def member_scores(trained: Path, dataset: Path) -> tuple[list[str], np.ndarray]:
    """P(class 1) of the saved weights by the training code's own path (models.member.predict
    on a Member whose weights, input scale included, are the file's)."""
    from models.member import new_member, predict
    from models.saved import read_saved
    from models.train import prepare

    saved = read_saved(trained)
    config, samples, x = prepare(saved["config"], dataset, torch.device("cpu"))
    every = np.arange(len(samples.composites))
    member = new_member(config, x, samples.y, samples.grid, (every, every))
    member.model.load_state_dict(saved["state_dict"])
    with torch.no_grad():
        return samples.composites, predict(config, member, x, every)[1]


def test_every_labelled_composite_is_predicted_as_the_training_code_does(
        trained, bundled_dataset, tmp_path):
    out_csv = tmp_path / "pred.csv"
    done = magvox("predict", "--model", str(trained), "--dataset", str(bundled_dataset),
                  "--out", str(out_csv), cwd=tmp_path)
    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    composites, expected = member_scores(trained, bundled_dataset)
    assert list(rows[0]) == ["composite", "cnn_class", "cnn_p1"]
    assert [r["composite"] for r in rows] == composites and len(composites) == 55
    p1 = np.array([float(r["cnn_p1"]) for r in rows])
    np.testing.assert_allclose(p1, expected, atol=1e-4)  # the csv keeps 4 decimals
    assert [int(r["cnn_class"]) for r in rows] == [int(p >= 0.5) for p in expected]
    table = done.stdout.splitlines()
    assert table[3].split() == ["composite", "cnn_class", "cnn_p1"]
    assert len(table) == 4 + 55 and "nothing refitted" in table[1]
