"""``magvox predict``: a search's best network (or any magvox model file) applied to a dataset.

    source = search_model("default-tpe", root=None)     # or file_model("model.pt")
    table = predict(source, "DS.zarr")
    print(render(table)); write_csv(table, "pred.csv")

A search's network is its best trial's first cross-validation fold's (trained on that fold's
training composites; ``models.train.run_trial``). One row per composite of the dataset: the
network's prediction (class and P(class 1) for a
classification target, the value in the label's units for regression) and the baselines'
(``models.predict_baselines``) beside it. The baselines are fitted on the development composites
of the search's own dataset (the one ``search.json`` names), never on its held-out test split
(``holdout.json``) and never on the predicted dataset; a model file given without its search has
no training set, so no baselines. Nothing is refitted on the predicted dataset: the network
divides by its own stored input scale (``models.predict``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.predict import Refused, grid_text, network_scores, prediction_inputs, value_name
from models.saved import SavedModel, load_saved
from search.tracking import client as tracking
from search.tracking import report
from search.tune.state import SearchPaths, SearchRecord, check_name, load_record, searches_root

SPLIT_NAMES = {True: "test split", False: "development"}  # Samples.test -> search_split cell


@dataclass
class ModelSource:
    """A network to apply: the loaded file (None until ``predict`` builds an older file without
    a recorded grid, at ``path``, on the dataset's grid), where it came from, its search (None:
    a bare file) and the grid it was built on (Nx, Ny, Nz)."""

    saved: SavedModel | None
    description: str
    record: SearchRecord | None = None
    grid: tuple[int, int, int] | None = None
    path: Path | None = None


@dataclass
class PredictionTable:
    """What ``magvox predict`` prints and writes: ``rows`` (one dict per composite, keys
    ``columns``), ``skipped`` (composite -> why no prediction) and header and note lines."""

    columns: list[str]
    rows: list[dict[str, Any]]
    skipped: dict[str, str]
    header: list[str]
    notes: list[str] = field(default_factory=list)


def _download(record: SearchRecord, run_id: str, artifact: str, tmp: str) -> Path:
    """One artifact of a run, into ``tmp`` (no progress bar on the user's terminal)."""
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    return Path(tracking.client(record.tracking_uri).download_artifacts(run_id, artifact, tmp))


def search_model(name: str, root: str | None = None) -> ModelSource:
    """The best network of search ``name`` under ``root``: ``best_model/model.pt`` of its MLflow
    parent run, else (a search still running or interrupted) its best completed trial's."""
    record = load_record(SearchPaths(searches_root(root), check_name(name)))
    grid = report.train_grid(record)
    mlf = tracking.client(record.tracking_uri)
    logged = {a.path for a in mlf.list_artifacts(record.parent_run_id, report.BEST_MODEL)}
    with tempfile.TemporaryDirectory(prefix="magvox-predict-") as tmp:
        if f"{report.BEST_MODEL}/model.pt" in logged:
            trial = mlf.get_run(record.parent_run_id).data.tags.get("magvox.best_trial")
            path = _download(record, record.parent_run_id, f"{report.BEST_MODEL}/model.pt", tmp)
            how = f"best trial {trial} (best_model/model.pt of its MLflow parent run)"
        else:
            run = report.best_run(record)
            if run is None:
                raise Refused(f"search {name}: no completed trial yet, so no model to apply")
            path = _download(record, run.info.run_id, "model.pt", tmp)
            how = (f"its best completed trial so far, {run.data.tags.get(tracking.TRIAL_TAG)} "
                   f"(the search is {record.status}: no best_model logged yet)")
        saved = load_saved(path, grid)
    return ModelSource(saved, f"search {name}, {how}", record, grid)


def run_model(name: str, run_id: str, root: str | None = None) -> ModelSource:
    """The network of one MLflow trial run of search ``name`` (its ``model.pt``); Refused
    when the run is not a trial of that search or logged no model."""
    record = load_record(SearchPaths(searches_root(root), check_name(name)))
    mlf = tracking.client(record.tracking_uri)
    try:
        run = mlf.get_run(run_id)
    except Exception as exc:  # MLflow raises its own error for an unknown id
        raise Refused(f"search {name}: no MLflow run {run_id}") from exc
    if run.data.tags.get("mlflow.parentRunId") != record.parent_run_id:
        raise Refused(f"run {run_id} is not a trial of search {name}")
    if "model.pt" not in {a.path for a in mlf.list_artifacts(run_id)}:
        raise Refused(f"run {run_id} of search {name} logged no model.pt (not completed?)")
    grid = report.train_grid(record)
    with tempfile.TemporaryDirectory(prefix="magvox-predict-") as tmp:
        saved = load_saved(_download(record, run_id, "model.pt", tmp), grid)
    trial = run.data.tags.get(tracking.TRIAL_TAG, run_id)
    return ModelSource(saved, f"search {name}, trial {trial} (run {run_id})", record, grid)


def file_model(path: str | Path) -> ModelSource:
    """A model file written by ``models.saved.save_model`` (a trial's ``model.pt``); without its
    search there is no training set, so no baselines."""
    from models.saved import read_saved

    if "grid" not in read_saved(path):  # an older file: built on the dataset's grid by predict
        return ModelSource(None, f"model file {path}", path=Path(path))
    saved = load_saved(path)
    return ModelSource(saved, f"model file {path}", grid=saved.grid)


def built_source(source: ModelSource, ds: Any, name: str) -> tuple[ModelSource, list[str]]:
    """A source whose network is built (an older file: on ``ds``'s grid, with a note)."""
    if source.saved is not None:
        return source, []
    grid = tuple(ds.train_grid)
    saved = load_saved(source.path, grid)
    note = (f"{source.path} records no training grid (saved before magvox kept it): the "
            f"network was built on {name}'s {grid_text(grid)}")
    return ModelSource(saved, source.description, None, grid), [note]


def _class_cells(prefix: str, value: float | str, with_p1: bool = True) -> dict[str, Any]:
    """``<prefix>_class`` (and ``<prefix>_p1``) of P(class 1) ``value``, or the reason."""
    if isinstance(value, str):
        return {f"{prefix}_class": value, **({f"{prefix}_p1": None} if with_p1 else {})}
    cells: dict[str, Any] = {f"{prefix}_class": int(value >= 0.5)}
    if with_p1:
        cells[f"{prefix}_p1"] = round(float(value), 4)
    return cells


def _cells(task: str, target: str, prefix: str, value: float | str) -> dict[str, Any]:
    """The cells of one model's prediction for one composite."""
    if task == "class":
        return _class_cells(prefix, value, with_p1=prefix != "majority")
    name = f"{prefix}_{value_name(target)}"
    return {name: value if isinstance(value, str) else float(f"{value:.5g}")}


def _header(source: ModelSource, name: str, n_fit: int | None, n_test: int | None) -> list[str]:
    """Lines above the table: the model, its target and input, where the baselines come from."""
    from models.data import CLASS_MEANING

    c = source.saved.config
    meaning = CLASS_MEANING.get(c.target, f"{value_name(c.target)}: value, per cell")
    units = {"voxel": "uB per grid voxel", "density": "uB/A^3"}.get(c.input_units, c.input_units)
    lines = [f"model: {source.description}",
             f"target {c.target} ({meaning}); input: the {c.configuration} density in {units}, "
             f"{c.input_channels} channels, {grid_text(source.grid or ())}, divided by the "
             f"model's own input scale (nothing refitted on {name})"]
    if source.record is None:
        lines.append("baselines: none (a model file without its search has no training set)")
    else:
        lines.append(f"baselines: fitted on the {n_fit} development composites of "
                     f"{source.record.dataset} (its {n_test} test-split composites not used)")
    return lines


def predict(source: ModelSource, dataset: str | Path, device: Any = None) -> PredictionTable:
    """Apply ``source``'s network to every composite of ``dataset`` that has its input
    configuration(s); with a search, the baselines beside it. Refused (one line) when the dataset
    does not fit the network."""
    from data_prep.dataset.store import open_dataset

    name = str(dataset)
    ds = open_dataset(dataset)
    source, notes = built_source(source, ds, name)
    new = prediction_inputs(source.saved, ds, name, grid=source.grid, device=device)
    scores = network_scores(source.saved, new.x, composition=new.composition)
    c = source.saved.config
    columns, n_fit, n_test, split = _baselines(source, new.samples, notes)
    rows = []
    for i, comp in enumerate(new.samples.composites):
        row: dict[str, Any] = {"composite": comp}
        if split is not None:
            row["search_split"] = split.get(comp, "new")
        row.update(_cells(c.task, c.target, "cnn", float(scores[i])))
        for base, column in columns.items():
            row.update(_cells(c.task, c.target, base, column[i]))
        rows.append(row)
    names = list(rows[0]) if rows else ["composite"]
    return PredictionTable(names, rows, new.skipped, _header(source, name, n_fit, n_test), notes)


def _baselines(source: ModelSource, new: Any, notes: list[str]):
    """(columns, development count, test count, composite -> search split) of the search's
    baselines; nothing for a bare model file."""
    if source.record is None:
        return {}, None, None, None
    from models.data import load_samples
    from models.predict_baselines import baseline_predictions

    c = source.saved.config
    fit = load_samples(source.record.dataset, c.target, c.configuration, c.moment_threshold_uB)
    fit.spin = fit.spin[:0]  # the integrals are computed: the densities are not needed
    columns, left_out = baseline_predictions(c.task, fit, new)
    notes.extend(left_out)
    split = {comp: SPLIT_NAMES[bool(t)] for comp, t in zip(fit.composites, fit.test, strict=True)}
    return columns, int((~fit.test).sum()), int(fit.test.sum()), split


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(table: PredictionTable) -> str:
    """The header, an aligned plain-text table, the skipped composites and the notes."""
    cells = [[_text(row.get(k)) for k in table.columns] for row in table.rows]
    widths = [max(len(x) for x in col) for col in zip(table.columns, *cells, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [*table.header, *(fmt.format(*r).rstrip() for r in [table.columns, *cells])]
    if table.skipped:
        lines.append(f"skipped {len(table.skipped)}: " + "; ".join(
            f"{comp} ({why})" for comp, why in sorted(table.skipped.items())))
    return "\n".join([*lines, *table.notes])


def write_csv(table: PredictionTable, path: str | Path) -> Path:
    """The rows as CSV at ``path``, written atomically (a temporary file renamed)."""
    import pandas as pd

    from data_prep.io.fileio import write_text_atomic

    csv = pd.DataFrame(table.rows, columns=table.columns).to_csv(index=False)
    return write_text_atomic(path, csv)


def to_json(table: PredictionTable) -> dict[str, Any]:
    """Plain data for scripts: header lines, columns, rows, skipped, notes."""
    return {"header": table.header, "columns": table.columns, "rows": table.rows,
            "skipped": table.skipped, "notes": table.notes}
