"""Ray Tune wiring: connect to a cluster, build the Tuner (Optuna + ASHA + MLflow), or restore it.

The Tune experiment lives in ``<search>/tune`` and Optuna's study in ``<search>/optuna.db``, so
``Tuner.restore`` after a kill -9 gets back the trial states (finished trials are not re-run,
unfinished ones start again) and the searcher, whose study is the SQLite history of every trial.
"""

from __future__ import annotations

import os
from typing import Any

from search.tracking.callbacks import MlflowTrialCallback
from search.tune.feasible import FeasibleSearch, MlflowInfeasibleRecorder
from search.tune.sampling import define_by_run, make_sampler, trial_dict
from search.tune.space import Space, space_from_dict
from search.tune.state import (
    SearchPaths,
    SearchRecord,
    round_index,
    rounds,
    tune_dir,
    tune_name,
)
from search.tune.tune_state import (
    StateSnapshot,
    last_good,
    repair_cut_state,
    repair_missing_checkpoints,
)

# When Tune saves its experiment state (trial statuses, searcher), what a kill -9 of the driver
# can lose: every trial checkpoint forces a save in the same controller step (num_to_keep=1 in
# new_tuner), so a trial whose final row (and checkpoint) arrived is never trained again: after a
# restore it resumes from that final checkpoint with no epoch left and reports it once more. The
# rest (a trial's start) is saved at most EXPERIMENT_SAVE_S later; an ASHA stop forces a save in
# its own step too (SavedStopsASHA): a trial MLflow shows as pruned is not trained again after a
# restore (before, a kill within the second after a stop resumed it). Tune's controller
# steps every 0.1 s while it waits, and saving at every step (period 0) wrote the whole
# experiment state ten times a second: ~0.2 s of driver CPU per trial with 6 trials, growing with
# the number of trials.
EXPERIMENT_SAVE_S = "1"
os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", EXPERIMENT_SAVE_S)
# MLflow is the search's record; of Tune's own per-trial files only result.json is kept (Tune's
# ResultGrid reads it), not the CSV and TensorBoard copies (new_tuner adds the JSON logger).
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
# A trial that fails or is infeasible ends with a row that has no metric (search.tune.trainable);
# ASHA and the searcher skip such rows, Tune's strict check would fail the whole search on one.
os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")

# How often Tune starts a trial again from its last checkpoint after its worker or node died
# (search.tune.trainable: a trial that raises is not retried). A requeued Slurm job kills the
# workers
# with the driver, and the driver may see the trial fail first and save it so.
MAX_FAILURES = 3


class FeasibilityCheck:
    """Picklable check run on the driver for each suggestion: models' validate and estimate."""

    def __init__(self, space: dict[str, Any], grid: tuple[int, int, int], max_mb: float,
                 samples: dict[str, int] | None = None, max_tflop: float = 0.0) -> None:
        self.space, self.grid, self.max_mb = space, tuple(grid), max_mb
        self.samples = dict(samples or {})  # DFT configuration -> samples in the dataset
        self.max_tflop = max_tflop

    def __call__(self, config: dict[str, Any]) -> str | None:
        fields = trial_dict(space_from_dict(self.space), config)
        from models.feasibility import infeasible_reason

        n = self.samples.get(str(fields.get("configuration", "FM")), 0)
        return infeasible_reason(fields, self.grid, self.max_mb, n,
                                 getattr(self, "max_tflop", 0.0))  # a pickle from before it


def build_searcher(record: SearchRecord, paths: SearchPaths, grid: tuple[int, int, int],
                   samples: dict[str, int] | None = None) -> Any:
    """OptunaSearch (define-by-run space, random or TPE, SQLite study) behind the feasibility
    check, optionally behind Ray's ConcurrencyLimiter."""
    import optuna
    from ray.tune.search import ConcurrencyLimiter

    from search.tune.optuna_searcher import LazySaveOptunaSearch

    space = space_from_dict(record.space)
    s = space.settings
    k = round_index(record)
    # an extension round (search.extend) continues the same study: the sampler sees every
    # earlier trial; its seed moves on (a random sampler would propose round 0's points again)
    # and the enqueued points, tried in round 0, are not enqueued again
    optuna_search = LazySaveOptunaSearch(
        space=define_by_run(space), metric=s.metric, mode=s.mode,
        sampler=make_sampler(record.sampler, s.seed + k), study_name=record.name,
        storage=optuna.storages.RDBStorage(paths.optuna_url),
        points_to_evaluate=(list(space.enqueue) or None) if k == 0 else None,
    )
    recorder = MlflowInfeasibleRecorder(record.tracking_uri, record.experiment_id,
                                        record.parent_run_id)
    check = FeasibilityCheck(record.space, grid, s.max_memory_mb, samples, s.max_train_tflop)
    searcher = FeasibleSearch(optuna_search, check, recorder)
    if s.max_concurrent > 0:
        return ConcurrencyLimiter(searcher, max_concurrent=s.max_concurrent)
    return searcher


def check_resources(record: SearchRecord) -> None:
    """Refuse a search whose trials ask for more CPUs or GPUs than the connected Ray cluster
    has (Tune would wait for them for ever), naming the setting."""
    import ray

    s = space_from_dict(record.space).settings
    have = ray.cluster_resources()
    hints = {"cpu": "at most the cluster's", "gpu": "0 trains on CPUs"}
    for key, asked in (("cpu", s.cpus_per_trial), ("gpu", s.gpus_per_trial)):
        total = float(have.get(key.upper(), 0.0))
        if asked > total:
            raise ValueError(
                f"search {record.name}: settings.{key}s_per_trial is {asked:g} and the Ray "
                f"cluster has {total:g} {key.upper()}s: no trial could start (--set "
                f"settings.{key}s_per_trial: {hints[key]}; or run it on a cluster that has "
                "them: cluster.yaml)")


def build_trainable(space: Space, dataset: Any) -> Any:
    """The trainable with the space and the dataset handle bound once (``ray.put`` by Ray) and
    the per-trial resources."""
    from ray import tune

    from search.tune.trainable import train

    s = space.settings
    bound = tune.with_parameters(train, space=space.to_dict(), dataset=dataset,
                                 cpus=s.cpus_per_trial, checkpoint_every_s=s.checkpoint_every_s)
    return tune.with_resources(bound, {"cpu": s.cpus_per_trial, "gpu": s.gpus_per_trial})


def epochs_of(space: Space) -> int:
    """Largest number of epochs a trial of this space can run (ASHA's max_t)."""
    candidates = [int(space.fixed.get("epochs", 5))]
    for p in space.params:
        if p.name == "epochs":
            candidates += [int(c) for c in p.choices] or [int(p.high or 1)]
    return max(candidates)


def new_tuner(record: SearchRecord, paths: SearchPaths, dataset: Any) -> Any:
    """A fresh Tuner for ``record`` on the loaded ``dataset`` (``search.tune.data.SharedDataset``):
    trials, searcher (its feasibility check on the dataset's training grid), ASHA, MLflow
    callback, storage."""
    from ray import tune
    from ray.tune.logger import JsonLoggerCallback

    from search.tune.scheduler import SavedStopsASHA

    space = space_from_dict(record.space)
    s = space.settings
    # max_t one above the last epoch: ASHA stops a trial that reaches max_t, and the trial's
    # final row (artifacts, baselines) is reported after its last epoch.
    max_t = epochs_of(space) + 1
    # a space run with fewer epochs than its grace period (--set epochs=2): no early stop
    scheduler = SavedStopsASHA(time_attr="epoch", max_t=max_t,
                              grace_period=min(s.grace_epochs, max_t),
                              reduction_factor=s.reduction_factor)
    searcher = build_searcher(record, paths, dataset.train_grid,
                              dataset.samples_per_configuration())
    tune_config = tune.TuneConfig(
        metric=s.metric, mode=s.mode, num_samples=rounds(record)[-1],
        search_alg=searcher, scheduler=scheduler,
        reuse_actors=True,  # keep worker processes (torch imported) from trial to trial
    )
    run_config = tune.RunConfig(
        name=tune_name(record), storage_path=str(paths.folder),
        callbacks=[MlflowTrialCallback(record.tracking_uri, record.experiment_id,
                                       record.parent_run_id), JsonLoggerCallback(),
                   StateSnapshot()],
        failure_config=tune.FailureConfig(max_failures=MAX_FAILURES),
        # keep only a trial's latest checkpoint; each one forces an experiment-state save (a
        # kill between the two leaves a state one checkpoint behind: search.tune.tune_state)
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        verbose=1,
    )
    return tune.Tuner(build_trainable(space, dataset), tune_config=tune_config,
                      run_config=run_config)


def restore_tuner(record: SearchRecord, paths: SearchPaths, dataset: Any) -> Any:
    """The interrupted Tuner: finished trials kept, unfinished ones resumed, errors kept."""
    from ray import tune

    folder = tune_dir(paths, record)
    for line in [*repair_cut_state(folder, last_good(folder)),
                 *repair_missing_checkpoints(folder)]:
        print(f"magvox: {line}", flush=True)
    space = space_from_dict(record.space)
    return tune.Tuner.restore(str(folder), build_trainable(space, dataset),
                              resume_unfinished=True, resume_errored=False,
                              restart_errored=False)


def close_orphaned_trials(record: SearchRecord, paths: SearchPaths) -> int:
    """Mark Optuna trials still RUNNING when the search has finished as FAIL; returns how many.

    A driver killed after Optuna handed out a trial but before Tune checkpointed its searcher
    leaves that trial RUNNING in the study, and the restored searcher never tells it. Once Tune
    is done no trial is live, so these are orphans: failed, with the reason as a user attribute.
    """
    import optuna
    from optuna.trial import TrialState

    storage = optuna.storages.RDBStorage(paths.optuna_url)
    study = optuna.load_study(study_name=record.name, storage=storage)
    orphans = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in orphans:
        storage.set_trial_user_attr(t._trial_id, "magvox_reason",
                                    "handed out before the driver was killed; never run")
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(orphans)


def can_restore(paths: SearchPaths, record: SearchRecord) -> bool:
    """Whether Tune wrote an experiment state of the current round that ``Tuner.restore``
    can read."""
    from ray import tune

    folder = tune_dir(paths, record)
    return folder.is_dir() and tune.Tuner.can_restore(str(folder))
