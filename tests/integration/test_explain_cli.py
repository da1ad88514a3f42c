"""``magvox explain`` through the real CLI on the bundled Te set: a network trained briefly by
``magvox train --out`` is explained on Cr2Ge2Te6, whose FM density integrates to its 6 uB over
the atoms' regions of the per-site table, and the maps read back with pymatgen; a composite not
in the dataset, a file that is not a magvox model and a model of another grid are refused in one
line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_search_support import magvox


@pytest.fixture(scope="module")
def trained(tmp_path_factory, bundled_dataset: Path) -> Path:
    """``magvox train --out``: the default learner, 2 epochs, 2 folds."""
    out = tmp_path_factory.mktemp("train") / "run"
    magvox("train", "--dataset", str(bundled_dataset), "--set", "epochs=2", "--set", "folds=2",
           "--out", str(out), cwd=out.parent, timeout=600)
    assert (out / "model.pt").is_file()
    return out


def test_explain_writes_maps_and_a_site_table_whose_moments_add_up(trained, bundled_dataset,
                                                                    tmp_path):
    from pymatgen.io.vasp import Chgcar

    done = magvox("explain", "--model", str(trained), "--dataset", str(bundled_dataset),
                  "--composites", "Cr2Ge2Te6", "--steps", "8", "--out", str(tmp_path / "ex"),
                  cwd=tmp_path, timeout=600)
    assert "Cr2Ge2Te6" in done.stdout and "completeness residual" in done.stdout
    folder = tmp_path / "ex" / "Cr2Ge2Te6"
    table = pd.read_csv(folder / "sites.csv")
    assert list(table["species"][:10]) == ["Cr", "Cr", "Ge", "Ge", *["Te"] * 6]
    # the FM density over every region is the cell's moment: 6 uB for Cr2Ge2Te6 (DFT: 6.00)
    assert table["density"].sum() == pytest.approx(6.0, abs=0.05)
    cr = table[table["species"] == "Cr"]["density"]
    assert (cr > 2.9).all() and (cr < 3.6).all()  # ~3 uB per Cr3+ (d3)
    chg = Chgcar.from_file(str(folder / "attribution.CHGCAR"))
    total = chg.data["total"].sum() / chg.data["total"].size
    assert total == pytest.approx(table["attribution"].sum(), rel=1e-6, abs=1e-9)
    assert (tmp_path / "ex" / "explain.json").is_file()


def _refused(args: list[str], cwd: Path) -> str:
    done = magvox("explain", *args, "--out", str(cwd / "ex"), cwd=cwd, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_bad_input_is_refused_in_one_line(trained, bundled_dataset, tmp_path):
    from models.net import MagNet
    from models.saved import save_model
    from models.trial import TrialConfig

    data = ["--dataset", str(bundled_dataset)]
    err = _refused(["--model", str(trained), *data, "--composites", "Cr9Nope"], tmp_path)
    assert "no composite Cr9Nope" in err
    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    assert "not a magvox model file" in _refused(["--model", str(junk), *data], tmp_path)
    config = TrialConfig.from_dict({"preset": "periodic-fast"})
    other = tmp_path / "small.pt"
    save_model(MagNet(config.model_config(), (8, 8, 16)).state_dict(), config, other,
               grid=(8, 8, 16))
    assert "trained on 8x8x16" in _refused(["--model", str(other), *data], tmp_path)
    assert not (tmp_path / "ex").exists()
