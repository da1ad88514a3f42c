"""A search of a few tiny trials end to end through the real CLI on a private local Ray cluster:
an infeasible configuration recorded (not crashed on), MLflow holding every trial with per-epoch
metrics, baselines, status and filter artifacts; ``status``/``best``; the MLflow UI in headless
Chromium showing the experiment, its trials and a filter picture. (The random sampler runs here,
TPE in test_search_resume.py, so each costs one search.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from test_search_support import free_port, magvox, write_space, write_tiny_dataset

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
INFEASIBLE = {"depth": 1, "conv_filters_0": 2, "kernel_sizes_0": 3, "strides_0": 1,
              "pool_sizes_0": 16, "lr": 0.1, "batch_size": 4}  # pool larger than the grid


@pytest.fixture(scope="module")
def searches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished random search with an enqueued infeasible point."""
    tmp = tmp_path_factory.mktemp("e2e")
    data = write_tiny_dataset(tmp / "tiny.zarr")
    space = write_space(tmp / "space.yaml")
    raw = yaml.safe_load(space.read_text())
    raw["params"]["pool_sizes"]["choices"] = [1, 2, 16]
    raw["enqueue"] = [INFEASIBLE]
    (tmp / "space_inf.yaml").write_text(yaml.safe_dump(raw))
    common = ["--dataset", str(data), "--trials", "3", "--root", str(tmp / "s")]
    magvox("search", "start", "--space", str(tmp / "space_inf.yaml"), "--sampler", "random",
           "--name", "rnd", *common, cwd=tmp)
    # its own copy of the data: its end-of-search test scoring is not rnd's (counted below)
    copy = write_tiny_dataset(tmp / "tiny_warm.zarr")
    magvox("search", "start", "--space", str(space), "--sampler", "tpe", "--name", "warm",
           "--warm-start", "rnd", "--warm-k", "2", "--dataset", str(copy), "--trials", "2",
           "--root", str(tmp / "s"), cwd=tmp)
    return tmp / "s"


def runs_of(root: Path, name: str) -> list:
    from mlflow.tracking import MlflowClient

    mlf = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    exp = mlf.get_experiment_by_name(name)
    return list(mlf.search_runs([exp.experiment_id], max_results=100)), mlf


def test_every_trial_is_in_mlflow_with_metrics_baselines_and_filters(searches: Path) -> None:
    runs, mlf = runs_of(searches, "rnd")
    parents = [r for r in runs if r.data.tags.get("magvox.role") == "search"]
    trials = [r for r in runs if r.data.tags.get("magvox.status") == "completed"]
    assert len(parents) == 1 and len(trials) == 3
    for run in trials:
        assert run.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert {"lr", "batch_size", "conv_filters_0", "kernel_sizes_0"} <= set(run.data.params)
        steps = [m.step for m in mlf.get_metric_history(run.info.run_id, "val_loss")]
        assert steps == [1, 2]  # one point per epoch
        for key in ("train_loss", "val_accuracy", "val_balanced_accuracy", "val_macro_f1",
                    "val_balanced_accuracy_std", "final_balanced_accuracy",
                    "baseline_majority_balanced_accuracy"):
            assert key in run.data.metrics, key
        files = {a.path for a in mlf.list_artifacts(run.info.run_id, "filters")}
        assert {"filters/filters.npy", "filters/filter_0.png"} <= files
    assert parents[0].data.tags.get("magvox.best_trial")
    # the held-out test split, scored once at the end, beside both baselines
    parent = parents[0].data
    for key in ("test_cnn_balanced_accuracy", "test_majority_balanced_accuracy_lo",
                "test_composition_balanced_accuracy_hi", "test_n_composites"):
        assert key in parent.metrics, key
    assert "baseline" in parent.tags["magvox.test_verdict"]
    # the best network as plain files (no pickle), loaded back without running code
    from models.saved import load_model

    files = {a.path for a in mlf.list_artifacts(parents[0].info.run_id, "best_model")}
    assert files == {"best_model/model.pt", "best_model/config.yaml"}
    # which hyperparameters mattered: Optuna's importance and plots on the parent run
    plots = {a.path for a in mlf.list_artifacts(parents[0].info.run_id, "importance")}
    assert {"importance/importance.json", "importance/history.html", "importance/history.png",
            "importance/parallel_coordinate.png", "importance/slice.html"} <= plots
    local = mlf.download_artifacts(parents[0].info.run_id, "importance/importance.json",
                                   str(searches))
    summary = json.loads(Path(local).read_text())
    assert summary["trials"] == 3 and set(summary["importance"]) == {"fanova", "ped_anova"}
    for method, found in summary["importance"].items():  # values, or why there are none
        assert found or summary["not_computable"][method], method
        assert all(f"importance_{method}_{p}" in parent.metrics for p in found)
    local = mlf.download_artifacts(parents[0].info.run_id, "best_model/model.pt", str(searches))
    model, config = load_model(local, (8, 8, 16))
    assert config.epochs == 2 and model.cfg.in_channels == 2
    # where the best model looks, on the test composites (magvox explain's files and numbers)
    local = mlf.download_artifacts(parents[0].info.run_id, "explain/explain.json", str(searches))
    explained = json.loads(Path(local).read_text())
    from data_prep.dataset.store import open_dataset

    test = open_dataset(parents[0].data.params["dataset"]).test_composites
    names = [c["composite"] for c in explained["composites"]]
    assert sorted(names) == sorted(test) and names and not explained["skipped"]
    for name in names:
        got = {a.path for a in mlf.list_artifacts(parents[0].info.run_id, f"explain/{name}")}
        assert {f"explain/{name}/{f}" for f in ("sites.csv", "planes.png",
                                                 "attribution.CHGCAR.gz")} == got
    constant = [c for c in explained["composites"] if c["note"]]
    for c in constant:  # a 2-epoch network on 8 composites may ignore its input: then it says so
        assert c["output"] == c["baseline_output"] and c["attribution_sum"] == 0.0
    if len(constant) < len(names):
        shares = [parent.metrics[f"explain_share_{r}"] for r in ("A", "B", "X",
                                                                  "interstitial", "vacuum")]
        assert sum(shares) == pytest.approx(1.0), explained["text"]
    else:
        assert "explain_share_X" not in parent.metrics
        assert "the output does not depend on the input" in explained["text"]


def test_a_warm_started_search_tries_the_best_trials_of_the_earlier_one_first(
        searches: Path, tmp_path: Path) -> None:
    from search.tracking import report
    from search.tune.state import SearchPaths, load_record

    earlier = load_record(SearchPaths(searches, "rnd"))
    best = sorted(report.trial_runs(earlier),
                  key=lambda r: -r.data.metrics.get("val_balanced_accuracy", -1.0))[:2]
    warm = load_record(SearchPaths(searches, "warm"))
    assert warm.extra["warm_start"]["search"] == "rnd"
    assert warm.extra["warm_start"]["trials"] == [r.data.tags["magvox.trial_id"] for r in best]
    first = report.trial_runs(warm)[:2]  # oldest first: the enqueued points ran first
    for old, new in zip(best, first, strict=True):
        sampled = {k for k in old.data.params if k in earlier.space["params"]
                   or k.rpartition("_")[0] in earlier.space["params"]}
        assert {k: new.data.params.get(k) for k in sampled} == {k: old.data.params[k]
                                                                  for k in sampled}
    # a space that lacks a field the earlier search sampled is refused by name, nothing written
    raw = yaml.safe_load((searches.parent / "space.yaml").read_text())
    del raw["params"]["batch_size"]
    (tmp_path / "narrow.yaml").write_text(yaml.safe_dump(raw))
    done = magvox("search", "start", "--space", str(tmp_path / "narrow.yaml"), "--name", "w2",
                  "--warm-start", "rnd", "--root", str(searches), cwd=tmp_path, check=False)
    assert done.returncode == 2 and "field batch_size" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (searches / "w2").exists()


def test_infeasible_configuration_is_recorded_with_its_reason(searches: Path) -> None:
    runs, _ = runs_of(searches, "rnd")
    bad = [r for r in runs if r.data.tags.get("magvox.status") == "infeasible"]
    enqueued = [r for r in bad if r.data.params["pool_sizes_0"] == "16"
                and r.data.params["depth"] == "1"]
    assert enqueued and "pool_sizes[0]" in enqueued[0].data.tags["magvox.reason"]
    assert all(r.info.status == "FAILED" and r.data.tags["magvox.reason"] for r in bad)


def test_status_and_best_commands(searches: Path) -> None:
    out = magvox("search", "status", "rnd", "--root", str(searches), "--json", cwd=searches)
    info = json.loads(out.stdout)
    assert info["status"] == "finished" and info["trials"]["completed"] == 3
    table = info["trials_table"]  # best first, then the rest; the infeasible one last
    done = [r for r in table if r["status"] == "completed"]
    assert [r["status"] for r in table[:3]] == ["completed"] * 3
    assert len(table) == sum(info["trials"].values())  # every trial run, infeasible ones too
    scores = [r["val_balanced_accuracy"] for r in done]
    assert scores == sorted(scores, reverse=True) and all(r["epochs"] == 2 for r in done)
    assert {r["status"] for r in table[3:]} == {"infeasible"}
    assert "16" in {r["params"].get("pool_sizes_0") for r in table[3:]}  # the enqueued one
    text = magvox("search", "status", "rnd", "--root", str(searches), cwd=searches).stdout
    head, *lines = text.splitlines()[2:]
    assert head.split()[:2] == ["trial", "status"] and "val_balanced_accuracy" in head
    assert len(lines) == len(table) and lines[0].split()[0] == done[0]["trial"]
    out = magvox("search", "best", "rnd", "--root", str(searches), "--json", cwd=searches)
    best = json.loads(out.stdout)
    assert best["metrics"]["val_balanced_accuracy"] == info["best"]["val_balanced_accuracy"]
    test = best["test"]
    assert test["trial_run_id"] == best["run_id"] and len(test["test_composites"]) >= 2
    # the search scored its test split once, at the end; `best` read it back, twice
    assert list(best["test_split_scorings"].values()) == [1]
    text = magvox("search", "best", "rnd", "--root", str(searches), cwd=searches).stdout
    assert "composites" in text and "never seen by the search" in text and "\n-> " in text
    assert "has been scored 1 time (" in text
    assert "hyperparameter importance over 3 finished trials" in text
    assert "warning: only 3 finished trials" in text and "  fanova: " in text
    from models.trial import TrialConfig

    config = yaml.safe_load(Path(best["config_file"]).read_text())
    assert TrialConfig.from_dict(config).epochs == 2  # ready for `magvox train`


def wait_http(url: str, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def chromium(tmp: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={tmp / 'chrome-profile'}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait_for(driver, predicate, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: predicate(d))


# The runs table as a user sees it: per row (top to bottom) the run id and, for each cell, its
# text, or None where the cell is not on screen (outside the window, or covered, e.g. by a panel).
TABLE_JS = """
const seen = el => {
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (!r.width || !r.height || x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
  const hit = document.elementFromPoint(x, y);
  return hit !== null && el.contains(hit);
};
const rows = {};
for (const row of document.querySelectorAll('.ag-body-viewport .ag-row[row-index]')) {
  const out = rows[row.getAttribute('row-index')] ??= {id: row.getAttribute('row-id'), cells: {}};
  for (const cell of row.querySelectorAll('[role=gridcell][col-id]')) {
    const shown = cell.querySelector('a') ?? cell;  // a run name is the link beside its colour
    out.cells[cell.getAttribute('col-id')] = seen(shown) ? shown.innerText.trim() : null;
  }
}
return Object.keys(rows).sort((a, b) => a - b).map(k => rows[k]);
"""
RUN_NAME_COL = "attributes.`Run Name`"


def ui_url(log: Path, proc: subprocess.Popen, timeout: float = 60) -> str:
    """The URL ``magvox ui`` prints on its line "MLflow UI: <url>"."""
    end = time.time() + timeout
    while time.time() < end:
        for line in log.read_text().splitlines():
            if line.startswith("MLflow UI: "):
                return line.removeprefix("MLflow UI: ").strip()
        if proc.poll() is not None:
            raise AssertionError(f"magvox ui exited ({proc.returncode}):\n{log.read_text()}")
        time.sleep(0.3)
    raise AssertionError(f"magvox ui printed no URL in {timeout} s:\n{log.read_text()}")


def shown_table(driver, runs: list, col: str) -> list | None:
    """The runs table (``TABLE_JS``) once every run of ``runs`` is a row whose ``col`` is on
    screen; None before."""
    table = driver.execute_script(TABLE_JS)
    ready = {row["id"] for row in table if row["cells"].get(col)}
    return table if {r.info.run_id for r in runs} <= ready else None


def test_ui_shows_experiment_trials_and_a_filter_picture(searches: Path,
                                                        tmp_path: Path) -> None:
    """The URL ``magvox ui`` prints opens the model-training view on every completed trial, its
    search-metric value in its row, best first; a trial's filter picture opens from its run."""
    from search.tracking.report import metric_name
    from search.tune.state import SearchPaths, load_record

    runs, _ = runs_of(searches, "rnd")
    metric, mode = metric_name(load_record(SearchPaths(searches, "rnd")))
    trials = [r for r in runs if r.data.tags.get("magvox.status") == "completed"]
    assert len(trials) >= 2 and all(metric in r.data.metrics for r in trials)
    trial = trials[0]
    port = free_port()
    log = tmp_path / "ui.log"
    proc = subprocess.Popen([sys.executable, "-m", "search.commands.cli", "ui", "rnd", "--root",
                             str(searches), "--port", str(port)], cwd=searches,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        url = ui_url(log, proc)
        assert url.startswith(f"http://127.0.0.1:{port}/#/experiments/{trial.info.experiment_id}/")
        wait_http(f"http://127.0.0.1:{port}/health")
        driver = chromium(tmp_path)
        try:
            driver.get(url)
            col = f"metrics.`{metric}`"
            table = wait_for(driver, lambda d: shown_table(d, trials, col))
            driver.save_screenshot(str(ARTIFACTS / "search_ui_experiment.png"))
            # (a) the model-training view (the GenAI view has Judges, Sessions, "Training runs")
            nav = {a.text for a in driver.find_elements("css selector", "aside a") if a.text}
            assert {"Runs", "Models", "Model registry"} <= nav, nav
            assert not nav & {"Judges", "Sessions", "Evaluation runs", "Prompts"}, nav
            assert driver.find_element("tag name", "h2").text == "Runs"
            assert f"Sort: {metric}" in driver.find_element("tag name", "body").text
            # (b) every completed trial is a row with its run name on screen; (c) with its value
            # of the search metric: the table shows the whole number (JS Number#toString), so it
            # reads back as exactly the value MLflow holds
            rows = {row["id"]: row["cells"] for row in table}
            for run in trials:
                cells = rows[run.info.run_id]
                assert cells[RUN_NAME_COL] == run.info.run_name, cells
                assert float(cells[col]) == run.data.metrics[metric], (cells, run.data.metrics)
            # (d) best first: rows with a value in metric order, then the rows without one
            # (the search's parent run, infeasible trials), shown as "-"
            shown = [row["cells"][col] for row in table]
            assert None not in shown, shown  # every row's metric cell on screen
            n = sum(v != "-" for v in shown)
            assert all(v == "-" for v in shown[n:]), shown
            held = [r.data.metrics[metric] for r in runs if metric in r.data.metrics]
            assert [float(v) for v in shown[:n]] == sorted(held, reverse=mode == "max"), shown
            # the old check, now without expanding the parent: the trial's name is in the page
            assert trial.info.run_name in driver.page_source
            url = (f"http://127.0.0.1:{port}/#/experiments/{trial.info.experiment_id}/runs/"
                   f"{trial.info.run_id}/artifacts/filters/filter_0.png")
            driver.get(url)
            wait_for(driver, lambda d: "filters/filter_0.png" in d.page_source)
            img = wait_for(driver, lambda d: [
                i for i in d.find_elements("tag name", "img")
                if d.execute_script("return arguments[0].naturalWidth", i) > 300])
            assert img
            driver.save_screenshot(str(ARTIFACTS / "search_ui_filter.png"))
        finally:
            driver.quit()
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_predict_applies_the_best_model_beside_baselines_fitted_on_development(
        searches: Path, real: Path, tmp_path: Path) -> None:
    """``magvox predict SEARCH``: real VASP runs prepared on the search's grid and new densities
    of its composites; the baselines are fitted on the search's development composites only."""
    import csv
    import shutil

    import numpy as np

    from data_prep.dataset.store import open_dataset
    from models.baselines import composition_scores

    for comp, conf, src, name in (("Fe", "FM", "Fe_bcc_prim_spin.CHGCAR", "CHGCAR"),
                                  ("Li", "FM", "Li_spin_grid48.CHGCAR.gz", "CHGCAR.gz"),
                                  ("NiO", "AFM-Neel", "NiO_SOC_AFM_grid28.CHGCAR.gz", "CHGCAR.gz")):
        (tmp_path / "runs" / comp / conf).mkdir(parents=True)
        shutil.copy(real / src, tmp_path / "runs" / comp / conf / name)  # a copy in tmp only
    data = tmp_path / "new.zarr"
    magvox("prep", str(tmp_path / "runs"), "--out", str(data), "--train-grid", "8", "8", "16",
           "--workers", "0", "--quiet", cwd=tmp_path)
    write_tiny_dataset(data, seed=1)  # the search's composite names, other densities
    out = magvox("predict", "rnd", "--root", str(searches), "--dataset", str(data), "--json",
                 "--out", str(tmp_path / "p.csv"), cwd=tmp_path)
    result = json.loads(out.stdout)
    rows = {r["composite"]: r for r in result["rows"]}
    searched = open_dataset(searches.parent / "tiny.zarr")
    test = set(searched.test_composites)
    labels = searched.labels.set_index("composite")["ground_state"]
    dev = sorted(set(labels.index) - test)
    assert set(rows) == {*labels.index, "Fe", "Li"} and result["skipped"] == {"NiO": "no FM sample"}
    assert "best trial" in result["header"][0]
    assert (f"fitted on the {len(dev)} development composites of {searches.parent / 'tiny.zarr'}"
            f" (its {len(test)} test-split composites not used)") in result["header"][2]
    assert {c: rows[c]["search_split"] for c in ("Fe", "Li")} == {"Fe": "new", "Li": "new"}
    assert {c for c in labels.index if rows[c]["search_split"] == "test split"} == test
    y_dev = labels[dev].to_numpy()
    assert {r["majority_class"] for r in rows.values()} == {int(y_dev.mean() > 0.5)}
    new = sorted(labels.index)
    expected = composition_scores("class", dev + new, np.concatenate([y_dev, np.zeros(len(new))]),
                                  np.arange(len(dev)), np.arange(len(dev), len(dev) + len(new)))
    got = [rows[c]["composition_p1"] for c in new]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    for comp in ("Fe", "Li"):  # the cell says why, once
        assert rows[comp]["composition_class"] == "not A2B2X6"
        assert rows[comp]["composition_p1"] is None
        assert 0 <= rows[comp]["integrals_p1"] <= 1 and rows[comp]["cnn_class"] in (0, 1)
    with (tmp_path / "p.csv").open() as fh:
        written = list(csv.DictReader(fh))
    assert list(written[0]) == result["columns"] and len(written) == len(rows)
    assert result["columns"] == ["composite", "search_split", "cnn_class", "cnn_p1",
                                 "majority_class", "composition_class", "composition_p1",
                                 "integrals_class", "integrals_p1"]


def test_explain_reads_the_search_best_model_and_one_trial_run(searches: Path,
                                                               tmp_path: Path) -> None:
    import pandas as pd

    data = str(searches.parent / "tiny.zarr")
    runs, _ = runs_of(searches, "rnd")
    trial = next(r for r in runs if r.data.tags.get("magvox.status") == "completed")
    for extra, out in (([], "best"), (["--run", trial.info.run_id], "one")):
        done = magvox("explain", "rnd", *extra, "--root", str(searches), "--dataset", data,
                      "--steps", "4", "--out", str(tmp_path / out), cwd=tmp_path)
        assert "completeness residual" in done.stdout
        tables = list((tmp_path / out).glob("*/sites.csv"))
        assert tables and all(len(pd.read_csv(t)) == 12 for t in tables)  # 10 atoms + 2
    done = magvox("explain", "rnd", "--run", "0123abcd", "--root", str(searches), "--dataset",
                  data, "--out", str(tmp_path / "bad"), cwd=tmp_path, check=False)
    assert done.returncode == 2 and "no MLflow run 0123abcd" in done.stderr
