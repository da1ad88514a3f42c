"""``magvox search assess``: nested cross-validation of a whole search, the figure of record.

Every labelled composite of the dataset (its held-out split included) goes into one of k outer
folds, stratified by label and chalcogen X. For each outer fold a complete search (sampling,
pruning, inner cross-validation, selection) runs on the other folds only, through the search
service itself: the fold's dataset is a small YAML view of the same stores whose
``test_composites`` are the outer fold (``data_prep.dataset.multi``), so the search never sees them
and its
end-of-search test report is the selected configuration scored once on its outer fold, beside the
baselines fitted on the same composites (and trained again with ``final_seeds`` seeds, so the
pooled figure carries the spread one network hides). The out-of-fold predictions are then pooled
(``models.pooled``): one score over every composite, with intervals, counts per class, per X, and
the paired differences.

State, under ``<root>/<name>/``: ``assess.json`` (options, the outer folds, MLflow ids), one
folder per outer search (``<name>.outer<i>``, resumable like any search), ``outer<i>.yaml`` (the
fold's dataset view) and, at the end, ``assessment.json``, ``assessment.csv`` (one row per
composite) and ``assessment.txt``. Running the same command again resumes: finished outer
searches are kept, an interrupted one resumes, missing ones start. MLflow: an experiment
``<name>`` with a parent run and one child run per outer fold, beside the outer searches' own
experiments in the same store.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from search.tune.defaults import ASSESS_FINAL_SEEDS, OUTER_FOLDS
from search.tune.state import SearchPaths, check_name, default_tracking_uri, searches_root

MIN_FOLDS = 2


@dataclass
class AssessOptions:
    """What ``magvox search assess`` was asked for (None = the space file's setting)."""

    name: str
    space: str | None = None
    sampler: str | None = None
    trials: int | None = None
    dataset: str | None = None
    root: str | None = None
    seed: int | None = None
    overrides: dict[str, Any] | None = None
    outer_folds: int | None = None  # None: OUTER_FOLDS, or the record's on a resume
    final_seeds: int | None = None  # None: ASSESS_FINAL_SEEDS, or the record's on a resume
    address: str | None = None


# option -> its flag, in the order of the command lines in the records
FLAGS = {"dataset": "--dataset", "space": "--space", "sampler": "--sampler", "trials": "--trials",
         "outer_folds": "--outer-folds", "seed": "--seed", "final_seeds": "--final-seeds",
         "overrides": "--set"}  # fmt: skip


def conflicts(given: AssessOptions, record: AssessRecord) -> list[str]:
    """The options of ``given`` that differ from those ``record`` was started with, as
    "--flag RECORDED (asked: GIVEN)"; options not given (None, no --set) never conflict; the
    dataset is the same when typed the same or when it resolves to the recorded file."""
    out = []
    for key, flag in FLAGS.items():
        asked, had = getattr(given, key), record.options.get(key)
        if asked is None or asked == {}:
            continue
        if key == "dataset":  # as typed then, or the same file
            same = asked == had or str(Path(asked).resolve()) == record.dataset
        else:
            same = asked == had
        if not same:
            out.append(f"{flag} {_shown(had)} (asked: {_shown(asked)})")
    return out


def _shown(value: Any) -> str:
    """An option's value as typed: ``--set`` pairs as KEY=VALUE, None as "not given"."""
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return "not given" if value is None else str(value)


@dataclass
class AssessRecord:
    """``assess.json``: the options, the outer folds (composite names) and the MLflow ids."""

    options: dict[str, Any]
    dataset: str
    target: str
    task: str
    configuration: str
    stores: list[str]
    folds: list[list[str]]
    tracking_uri: str
    experiment_id: str = ""
    parent_run_id: str = ""
    fold_runs: dict[str, str] = field(default_factory=dict)  # "i" -> child run id
    status: str = "running"
    wall_s: float = 0.0  # time the outer searches ran, summed over the drivers (resumes)


def _resolved(opts: AssessOptions) -> tuple[Any, dict[str, Any]]:
    """The space and the TrialConfig fields every trial shares (target, configuration...)."""
    from models.trial import TrialConfig
    from search.tune.space import load_space

    space = load_space(opts.space, opts.overrides)
    return space, TrialConfig.from_dict(dict(space.fixed)).to_dict()


def store_paths(dataset: str | Path) -> list[str]:
    """Absolute paths of the Zarr stores behind a dataset (a store or a YAML list of stores)."""
    from data_prep.dataset.store import open_dataset

    ds = open_dataset(dataset)
    return [str(Path(s.path).resolve()) for s in getattr(ds, "stores", [ds])]


def outer_folds(composites: list[str], y: np.ndarray, k: int, *, classification: bool,
                seed: int) -> list[list[str]]:
    """k folds of composite names, stratified by label (and X where every stratum can fill the
    folds); a class with fewer composites than folds is refused, naming the counts."""
    from data_prep.composite import chalcogen
    from models.split import split_indices

    if k < MIN_FOLDS:
        raise ValueError(f"--outer-folds {k}: need at least {MIN_FOLDS}")
    if len(composites) < 2 * k:
        raise ValueError(f"{len(composites)} labelled composites cannot fill {k} outer folds")
    if classification:
        values, counts = np.unique(y, return_counts=True)
        table = ", ".join(f"class {v}: {n}" for v, n in zip(values, counts, strict=True))
        if len(values) < 2 or counts.min() < k:
            raise ValueError(f"{k} outer folds need at least {k} composites of each class; the "
                             f"labelled composites hold {table}")
    xs = [chalcogen(c) for c in composites]
    folds = []
    for i in range(k):
        _, val = split_indices(composites, y, classification=classification, seed=seed,
                               folds=k, fold=i, groups=xs)
        folds.append(sorted(composites[j] for j in val))
    return folds


def fold_name(name: str, i: int) -> str:
    """The outer search of fold ``i``: also its MLflow experiment and Optuna study name."""
    return f"{name}.outer{i}"


def write_view(path: Path, stores: list[str], test: list[str]) -> Path:
    """The fold's dataset: the same stores, ``test_composites`` = the outer fold (atomic)."""
    import yaml

    from data_prep.io.fileio import write_text_atomic

    return write_text_atomic(path, "# an outer fold of `magvox search assess`: the stores, this "
                             "fold held out\n"
                             + yaml.safe_dump({"stores": stores, "test_composites": test}))


def save(folder: Path, record: AssessRecord) -> None:
    """Write ``assess.json`` atomically."""
    from data_prep.io.fileio import write_text_atomic

    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "assess.json", json.dumps(asdict(record), indent=1))


def load(folder: Path) -> AssessRecord | None:
    """The assessment recorded in ``folder``, or None."""
    path = folder / "assess.json"
    return AssessRecord(**json.loads(path.read_text())) if path.is_file() else None


def new_record(opts: AssessOptions, folder: Path) -> AssessRecord:
    """Resolve the options: target, the labelled composites and their outer folds."""
    from data_prep import BUNDLED_DATASET
    from models.data import labelled_composites
    from models.trial import TrialConfig
    from search.tune.data import configurations_of

    space, fixed = _resolved(opts)
    dataset = str(Path(opts.dataset or space.settings.dataset or BUNDLED_DATASET).resolve())
    configuration = "+".join(configurations_of(space.to_dict()))
    config = TrialConfig.from_dict(fixed)
    names, y = labelled_composites(dataset, config.target, configuration,
                                   config.moment_threshold_uB)
    seed = space.settings.seed if opts.seed is None else opts.seed
    folds = outer_folds(names, y, opts.outer_folds, classification=config.task == "class",
                        seed=seed)
    root = folder.parent
    return AssessRecord(asdict(opts), dataset, config.target, config.task, configuration,
                        store_paths(dataset), folds, default_tracking_uri(root))


def open_tracking(record: AssessRecord, folder: Path) -> None:
    """The assessment's MLflow experiment and parent run (ids kept in the record)."""
    from search.tracking import client as tracking

    mlf = tracking.client(record.tracking_uri)
    name = folder.name
    artifacts = folder.parent / "mlartifacts" / name
    record.experiment_id = tracking.ensure_experiment(mlf, name, artifacts)
    record.parent_run_id = tracking.start_parent_run(mlf, record.experiment_id, name, {
        "kind": "nested cross-validation", "outer_folds": len(record.folds),
        "target": record.target, "configuration": record.configuration,
        "dataset": record.dataset, **{k: v for k, v in record.options.items()
                                      if k not in ("name", "root") and v is not None}})
    mlf.set_tag(record.parent_run_id, "magvox.role", "assessment")


def run_fold(opts: AssessOptions, record: AssessRecord, folder: Path, i: int) -> Any:
    """Run (or resume, or keep) the outer search of fold ``i``; returns its search record."""
    from search.tune import service
    from search.tune.state import load_record

    name = fold_name(folder.name, i)
    paths = SearchPaths(folder, name)
    if paths.exists():
        done = load_record(paths)
        if done.status == "finished":
            return done
        return service.resume(name, root=str(folder), address=opts.address)
    view = write_view(folder / f"outer{i}.yaml", record.stores, record.folds[i])
    return service.start(service.StartOptions(
        space=opts.space, sampler=opts.sampler, trials=opts.trials, name=name,
        address=opts.address, tracking_uri=record.tracking_uri, dataset=str(view),
        root=str(folder), seed=opts.seed, overrides=opts.overrides,
        final_seeds=opts.final_seeds, explain=False))  # an outer fold is scored, not explained


def fold_report(search: Any) -> dict[str, Any]:
    """The outer fold's test report (the selected configuration scored once on the fold)."""
    from search.tracking import report

    found = report.load_test(search)
    if found is None:
        raise RuntimeError(f"outer search {search.name} finished without a completed trial, so "
                           f"nothing was selected to score its fold; see `magvox search status "
                           f"{search.name}`")
    return found["report"]


def log_fold(record: AssessRecord, i: int, search: Any, rep: dict[str, Any]) -> None:
    """A child run of the assessment's parent for outer fold ``i`` (once)."""
    from search.tracking import client as tracking

    if str(i) in record.fold_runs:
        return
    mlf = tracking.client(record.tracking_uri)
    # a driver killed after creating the child but before assess.json recorded it left one:
    # take it, never a second
    found = mlf.search_runs([record.experiment_id], filter_string=(
        f"tags.mlflow.parentRunId = '{record.parent_run_id}' and "
        f"tags.`magvox.outer_search` = '{search.name}'"), max_results=1)
    run = found[0] if found else mlf.create_run(record.experiment_id, run_name=f"outer{i}", tags={
        "mlflow.parentRunId": record.parent_run_id, "magvox.role": "outer fold",
        "magvox.outer_search": search.name, "magvox.outer_experiment_id": search.experiment_id,
        "magvox.selected_trial": str(rep.get("trial"))})
    metric = rep["metric"]
    values = {f"fold_{m}_{metric}": s[0] for m, s in rep["scores"].items()}
    values["fold_n_composites"] = float(len(rep["test_composites"]))
    tracking.log_metrics(mlf, run.info.run_id, values)
    mlf.set_terminated(run.info.run_id, "FINISHED")
    record.fold_runs[str(i)] = run.info.run_id


def assess(opts: AssessOptions) -> tuple[AssessRecord, Any]:
    """Run (or resume) the nested cross-validation; -> (record, ``models.pooled.Pooled``)."""
    from data_prep.ray_local import connect

    if opts.final_seeds is not None and opts.final_seeds < 1:
        raise ValueError(f"--final-seeds {opts.final_seeds}: must be at least 1")
    folder = searches_root(opts.root) / check_name(opts.name)
    if SearchPaths(folder.parent, opts.name).exists():
        raise FileExistsError(f"{folder} holds a search, not an assessment: pick another name")
    record = load(folder)
    if record is None:
        opts = replace(opts, outer_folds=OUTER_FOLDS if opts.outer_folds is None
                       else opts.outer_folds, final_seeds=ASSESS_FINAL_SEEDS
                       if opts.final_seeds is None else opts.final_seeds)  # fmt: skip
        record = new_record(opts, folder)
        open_tracking(record, folder)
        save(folder, record)
    else:  # resume with the options it started with (the outer folds depend on them)
        differ = conflicts(opts, record)
        if differ:
            raise ValueError(
                f"assessment {opts.name} ({folder}) was started ({record.status}) with other "
                f"options: {'; '.join(differ)}. Run it with its own options, or none, to "
                f"resume or show it; pick another name for a new one")
        opts = AssessOptions(**{**record.options, "address": opts.address})
    connect(opts.address)
    reports = []
    for i in range(len(record.folds)):
        print(f"magvox assess: outer fold {i + 1}/{len(record.folds)} "
              f"({len(record.folds[i])} composites held out)", flush=True)
        began = time.perf_counter()
        search = run_fold(opts, record, folder, i)
        record.wall_s += time.perf_counter() - began
        if search.status != "finished":
            record.status = "interrupted"
            save(folder, record)
            return record, None
        rep = fold_report(search)
        log_fold(record, i, search, rep)
        save(folder, record)
        reports.append(rep)
    pooled = finish(record, folder, reports)
    return record, pooled


def finish(record: AssessRecord, folder: Path, reports: list[dict[str, Any]]) -> Any:
    """Pool the folds, write assessment.{json,csv,txt}, log them on the parent run."""
    from models.pooled import pool
    from search.evaluation.assess_files import write_outputs
    from search.tracking import client as tracking

    folds = [{"composites": r["test_composites"], "y": r["y"], "predictions": r["predictions"],
              "seed_predictions": r.get("seed_predictions", [])} for r in reports]
    pooled = pool(record.task, record.target, folds)
    distinct = distinct_states(record, folds)
    paths = write_outputs(folder, pooled, reports, distinct, provenance(record))
    mlf = tracking.client(record.tracking_uri)
    tracking.log_metrics(mlf, record.parent_run_id, pooled.flat())
    if distinct is not None:
        tracking.log_metrics(mlf, record.parent_run_id, {
            f"distinct_{k}": v for k, v in distinct["pooled"].flat().items()})
    mlf.set_tag(record.parent_run_id, "magvox.nested_verdict", pooled.verdict())
    for path in paths:
        mlf.log_artifact(record.parent_run_id, str(path))
    mlf.set_terminated(record.parent_run_id, "FINISHED")
    record.status = "finished"
    save(folder, record)
    return pooled


def command(options: dict[str, Any]) -> str:
    """The ``magvox search assess`` command line of ``options`` (paths made portable)."""
    from search.tracking.provenance import portable

    parts = ["magvox", "search", "assess", options["name"]]
    for key, flag in FLAGS.items():
        if key != "overrides" and options.get(key) is not None:
            parts += [flag, str(options[key])]
    for key, value in (options.get("overrides") or {}).items():
        parts += ["--set", f"{key}={value}"]
    return portable(shlex.join(parts))


def provenance(record: AssessRecord) -> dict[str, Any]:
    """Date, commit, machine and load at the end, the command, and ``wall`` (s): the time the
    outer searches ran, over every driver that resumed the assessment."""
    from search.tracking.provenance import start

    return {**start(command(record.options)), "wall": round(record.wall_s, 1)}


def distinct_states(record: AssessRecord, folds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """For a multi-configuration input (``FM+AFM-Neel``): the figures again on the composites
    whose runs ended in distinct states, and how many pairs collapsed into one state (both
    channels then hold one density and the label is always FM: a shortcut, not physics)."""
    from data_prep.dataset.store import open_dataset
    from models.pooled import pool, restrict

    if "+" not in record.configuration:
        return None
    labels = open_dataset(record.dataset).labels
    collapsed = set(labels.loc[labels["afm_collapsed"].fillna(False).astype(bool), "composite"])
    names = {c for f in folds for c in f["composites"]}
    keep = names - collapsed
    return {"collapsed": len(names & collapsed), "kept": len(keep),
            "pooled": pool(record.task, record.target, restrict(folds, keep))}
