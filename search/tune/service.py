"""The search service: start, resume, extend, and read back (status, best) a named search.

``start`` writes ``search.json``, the MLflow experiment and parent run, then runs the Tuner;
``resume`` restores it from ``<search>/tune``; ``extend`` gives a finished search more trials (a
new round: a Tune experiment ``<search>/tune-2`` on the same Optuna study, logging to the same
MLflow experiment and parent run; ``resume`` continues an interrupted round). All end with
``finish``: the best trial's model logged on the parent run. ``status`` and ``best`` read MLflow
only (they work during a search).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep import BUNDLED_DATASET
from data_prep.ray_local import connect
from search.cluster.slurm_job import early_stop, job_env
from search.tracking import client as tracking
from search.tracking.callbacks import STATUS_KEY
from search.tune import runner
from search.tune.data import configurations_of, load_shared
from search.tune.defaults import FINAL_SEEDS, WARM_K
from search.tune.space import load_space
from search.tune.state import (
    SearchPaths,
    SearchRecord,
    check_name,
    default_tracking_uri,
    load_record,
    rounds,
    save_record,
    searches_root,
)


@dataclass
class StartOptions:
    """What ``magvox search start`` was asked for (None = the space file's setting)."""

    space: str | None = None
    sampler: str | None = None
    trials: int | None = None
    name: str | None = None
    address: str | None = None
    tracking_uri: str | None = None
    dataset: str | None = None
    root: str | None = None
    seed: int | None = None
    overrides: dict[str, Any] | None = None
    final_seeds: int = FINAL_SEEDS  # networks trained for the end-of-search test report
    warm_start: str | None = None  # an earlier search whose best trials are tried first
    warm_k: int = WARM_K
    explain: bool = True  # explain the best model on the test composites at the end


def free_name(root: Path, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... if a search of that name exists under ``root``."""
    name, n = base, 1
    while SearchPaths(root, name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def new_record(opts: StartOptions, root: Path) -> SearchRecord:
    """Resolve options against the space file into the record written to search.json."""
    space = load_space(opts.space, opts.overrides)
    raw = space.to_dict()
    if opts.seed is not None:
        raw["settings"]["seed"] = opts.seed
    dataset = Path(opts.dataset or space.settings.dataset or BUNDLED_DATASET).resolve()
    sampler = opts.sampler or space.settings.sampler
    name = check_name(opts.name or free_name(root, f"{Path(space.source).stem}-{sampler}"))
    extra: dict[str, Any] = {} if opts.explain else {"explain": False}
    if opts.warm_start:
        from search.tune.warm import warm_points

        points, trials = warm_points(opts.warm_start, root, space, opts.warm_k)
        raw["enqueue"] = [*points, *raw["enqueue"]]
        extra["warm_start"] = {"search": opts.warm_start, "trials": trials}
    return SearchRecord(
        name=name, space=raw, space_source=space.source, sampler=sampler,
        trials=opts.trials or space.settings.trials, dataset=str(dataset),
        tracking_uri=opts.tracking_uri or default_tracking_uri(root), address=opts.address,
        extra=extra,
    )


def open_tracking(record: SearchRecord, root: Path) -> None:
    """Create the search's MLflow experiment and parent run (fills the record's ids)."""
    mlf = tracking.client(record.tracking_uri)
    artifact_root = root / "mlartifacts" / record.name
    if not record.tracking_uri.startswith("sqlite:"):
        artifact_root = None
    record.experiment_id = tracking.ensure_experiment(mlf, record.name, artifact_root)
    record.parent_run_id = tracking.start_parent_run(mlf, record.experiment_id, record.name, {
        "sampler": record.sampler, "trials": record.trials, "dataset": record.dataset,
        "space_source": record.space_source, "settings": record.space["settings"],
        "fixed": record.space["fixed"],
    })


def start(opts: StartOptions) -> SearchRecord:
    """Start a new search and run it to the end; returns the final record."""
    if opts.final_seeds < 1:
        raise ValueError(f"--final-seeds {opts.final_seeds}: must be at least 1")
    early_stop.listen()
    root = searches_root(opts.root)
    record = new_record(opts, root)
    paths = SearchPaths(root, record.name)
    if paths.exists():
        raise FileExistsError(f"search {record.name!r} exists in {paths.folder}: "
                              f"`magvox search resume {record.name}` or pick another --name")
    dataset = load_shared(record.dataset, configurations_of(record.space))
    connect(record.address)
    runner.check_resources(record)  # before anything is written
    open_tracking(record, root)
    record.extra.update(job_env())  # the Slurm job running this driver, if any
    if opts.final_seeds > 1:
        record.extra["final_seeds"] = opts.final_seeds
    save_record(paths, record)
    tuner = runner.new_tuner(record, paths, dataset)
    return _fit(tuner, record, paths)


def resume(name: str, root: str | None = None, address: str | None = None) -> SearchRecord:
    """Finish an interrupted search: restore the Tuner from its folder and run the rest."""
    early_stop.listen()
    paths = SearchPaths(searches_root(root), check_name(name))
    record = load_record(paths)
    record.address = address
    dataset = load_shared(record.dataset, configurations_of(record.space))
    connect(address)
    runner.check_resources(record)
    if runner.can_restore(paths, record):
        tuner = runner.restore_tuner(record, paths, dataset)
    else:  # killed before Tune wrote any state: nothing ran, start the Tuner afresh
        tuner = runner.new_tuner(record, paths, dataset)
    record.status = "running"
    record.extra.update(job_env())
    save_record(paths, record)
    return _fit(tuner, record, paths)


def extend(name: str, trials: int, root: str | None = None,
           address: str | None = None) -> SearchRecord:
    """Run ``trials`` more trials of a finished search (``add_round``, then ``resume`` runs the
    round); returns the final record."""
    add_round(name, trials, root)
    return resume(name, root=root, address=address)


def add_round(name: str, trials: int, root: str | None = None) -> SearchRecord:
    """Give a finished search a new round of ``trials`` trials, to be run by ``resume`` (here or
    in a Slurm job): the same Optuna study (the sampler sees every earlier trial), a new Tune
    experiment ``tune-<k>``, the same MLflow experiment and parent run (reopened). The
    end-of-search steps then run again over all trials; the test split is scored again only if
    the best trial changed. Refused for a search that is not finished."""
    if trials < 1:
        raise ValueError(f"--trials {trials}: must be at least 1")
    paths = SearchPaths(searches_root(root), check_name(name))
    record = load_record(paths)
    if record.status != "finished":
        raise ValueError(f"search {name!r} is {record.status}, not finished: "
                         f"`magvox search resume {name}` first, then extend it")
    record.extra["rounds"] = [*rounds(record), trials]
    record.trials += trials
    record.status = "running"
    mlf = tracking.client(record.tracking_uri)
    mlf.update_run(record.parent_run_id, "RUNNING")
    mlf.set_tag(record.parent_run_id, "magvox.rounds", "+".join(map(str, rounds(record))))
    save_record(paths, record)
    return record


def _fit(tuner: Any, record: SearchRecord, paths: SearchPaths) -> SearchRecord:
    if early_stop.requested:  # SIGUSR1 before Tune could take it: stop before any trial
        record.status = "interrupted"
        save_record(paths, record)
        return record
    results = tuner.fit()
    over = sum(1 for r in results if trial_over(r))
    if over < rounds(record)[-1]:  # the trials of this round (all of them before an extend)
        # Ctrl-C / SIGUSR1: Tune stopped and saved its state; `resume` continues
        record.status = "interrupted"
    else:
        runner.close_orphaned_trials(record, paths)
        finish(record, paths)
        record.status = "finished"
    save_record(paths, record)
    return record


def trial_over(result: Any) -> bool:
    """Whether a Tune trial ended for good: its final row (completed / infeasible), stopped by
    ASHA (``done``) or failed. After Ctrl-C Tune stops running trials without either mark."""
    metrics = result.metrics or {}
    return result.error is not None or bool(metrics.get(STATUS_KEY) or metrics.get("done"))


def finish(record: SearchRecord, paths: SearchPaths) -> None:
    """Log the best completed trial's model and metrics, the test report, the explanation of
    the model on the test composites (``search.evaluation.explain.explain_best``) and the
    importance of the
    hyperparameters (with Optuna's plots) on the parent run and close it."""
    from search.evaluation import explain
    from search.tracking import importance, report
    from search.tracking.pictures import draw_missing

    draw_missing(record)  # pictures a killed driver never drew
    mlf = tracking.client(record.tracking_uri)
    best = report.best_run(record)
    if best is not None:
        report.log_best_model(record, mlf, best)
        report.test_report(record, best)  # the one look at the test split, at the end
        if record.extra.get("explain", True):  # where it looks, on the same test composites
            explain.explain_best(record, mlf, best)
    importance.analyse(record, paths)
    mlf.set_terminated(record.parent_run_id, "FINISHED")
