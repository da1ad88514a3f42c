"""The MLflow callback on stand-in Tune trials: nesting, per-epoch steps, and the statuses
pruned (stopped by ASHA) and failed (the exception as reason); a resumed trial finds its run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from search.tracking import client as tracking
from search.tracking.callbacks import STATUS_KEY, MlflowTrialCallback, exception_lines


@dataclass
class FakeTrial:
    trial_id: str
    config: dict = field(default_factory=lambda: {"lr": 0.1, "kernel_sizes_0": 3})
    last_result: dict = field(default_factory=dict)
    error_file: str | None = None
    checkpoint: None = None


def setup(tmp_path: Path) -> tuple[MlflowTrialCallback, object, str]:
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    mlf = tracking.client(uri)
    exp = tracking.ensure_experiment(mlf, "s", tmp_path / "art")
    parent = tracking.start_parent_run(mlf, exp, "s", {"sampler": "tpe"})
    return MlflowTrialCallback(uri, exp, parent), mlf, parent


def test_pruned_and_failed_trials(tmp_path: Path) -> None:
    cb, mlf, parent = setup(tmp_path)
    pruned, failed = FakeTrial("a"), FakeTrial("b")
    for trial in (pruned, failed):
        cb.on_trial_start(0, [], trial)
    for epoch in (1, 2):
        cb.on_trial_result(0, [], pruned, {"epoch": epoch, "val_loss": 1.0 / epoch, "pid": 7})
    pruned.last_result = {"epoch": 2, "val_loss": 0.5}
    cb.on_trial_complete(0, [], pruned)
    err = tmp_path / "error.txt"
    err.write_text("Traceback ...\n  File x\nRuntimeError: CUDA out of memory\n")
    failed.error_file = str(err)
    cb.on_trial_error(0, [], failed)

    run_a = mlf.get_run(cb.run_id(pruned))
    assert run_a.data.tags["mlflow.parentRunId"] == parent
    assert run_a.data.tags[tracking.STATUS_TAG] == "pruned" and run_a.info.status == "KILLED"
    assert [m.step for m in mlf.get_metric_history(run_a.info.run_id, "val_loss")] == [1, 2]
    assert "pid" not in run_a.data.metrics and run_a.data.params["lr"] == "0.1"
    run_b = mlf.get_run(cb.run_id(failed))
    assert run_b.data.tags[tracking.STATUS_TAG] == "failed" and run_b.info.status == "FAILED"
    assert "CUDA out of memory" in run_b.data.tags[tracking.REASON_TAG]


def test_a_restored_callback_finds_the_same_run(tmp_path: Path) -> None:
    import pickle

    cb, _, _ = setup(tmp_path)
    trial = FakeTrial("c")
    cb.on_trial_start(0, [], trial)
    first = cb.run_id(trial)
    again = pickle.loads(pickle.dumps(cb))  # as Tuner.restore gets it
    again.on_trial_start(0, [], trial)  # params already logged: no error
    assert again.run_id(trial) == first


def test_a_completed_trial_reported_again_after_a_restore_is_logged_once(tmp_path: Path) -> None:
    import pickle

    cb, mlf, _ = setup(tmp_path)
    trial = FakeTrial("d", last_result={"trial_status": "completed", "epoch": 2,
                                        "final_val_loss": 0.25, "train_s": 1.5})
    cb.on_trial_start(0, [], trial)
    cb.on_trial_complete(0, [], trial)
    again = pickle.loads(pickle.dumps(cb))  # the driver was killed before Tune saved the end
    again.on_trial_start(0, [], trial)
    again.on_trial_complete(0, [], trial)  # resumed from its final checkpoint: same final row
    run_id = cb.run_id(trial)
    assert mlf.get_run(run_id).data.tags[tracking.STATUS_TAG] == "completed"
    assert len(mlf.get_metric_history(run_id, "final_val_loss")) == 1


def test_pictures_live_for_long_trials_and_at_the_end_for_short_ones(tmp_path: Path) -> None:
    import numpy as np
    from ray import tune

    from search.tracking.callbacks import LIVE_PICTURES_MIN_S
    from search.tracking.pictures import draw_missing

    cb, mlf, parent = setup(tmp_path)
    runs = {}
    for name, wall in (("long", LIVE_PICTURES_MIN_S + 1), ("short", 2.0)):
        folder = tmp_path / name
        folder.mkdir()
        np.save(folder / "filters.npy", np.ones((1, 1, 3, 3, 3), np.float32))
        trial = FakeTrial(name, last_result={"trial_status": "completed", "epoch": 1,
                                             "trial_wall_s": wall})
        trial.checkpoint = tune.Checkpoint.from_directory(folder)
        cb.on_trial_start(0, [], trial)
        cb.on_trial_complete(0, [], trial)
        runs[name] = cb.run_id(trial)
    cb.on_experiment_end([])  # waits for the live pictures

    def pngs(run_id: str) -> list[str]:
        return [a.path for a in mlf.list_artifacts(run_id, "filters") if a.path.endswith(".png")]

    assert pngs(runs["long"]) == ["filters/filter_0.png"]
    assert pngs(runs["short"]) == []  # left for the end of the search
    record = type("Record", (), {"tracking_uri": cb.tracking_uri,
                                 "experiment_id": cb.experiment_id, "parent_run_id": parent})
    assert draw_missing(record) == 1
    assert pngs(runs["short"]) == ["filters/filter_0.png"]


ACTOR_DIED = """Failure # 1 (occurred at 2026-12-02_01-42-03)
The actor died unexpectedly before finishing this task.
\tclass_name: ImplicitFunc
\tactor_id: 4ca91949628a6ff97e4e2c1601000000
\tpid: 26056
\tip: 192.0.2.2
The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR
"""


def test_a_trial_that_raised_and_one_whose_worker_died(tmp_path: Path) -> None:
    """The trainable's own failure ends the run FAILED with its reason; a worker that died
    leaves the run open, tagged with the restart and its cause."""
    cb, mlf, _ = setup(tmp_path)
    raised, lost = FakeTrial("r"), FakeTrial("l")
    for trial in (raised, lost):
        cb.on_trial_start(0, [], trial)
    raised.last_result = {STATUS_KEY: "failed", "epoch": 0,
                          "reason": "node n1\nmodels/train.py:10 in fit\nValueError: bad"}
    cb.on_trial_complete(0, [], raised)
    err = tmp_path / "error.txt"
    err.write_text(ACTOR_DIED)
    lost.error_file = str(err)
    lost.run_metadata = SimpleNamespace(num_failures=1)
    cb.on_trial_recover(0, [], lost)

    run_r = mlf.get_run(cb.run_id(raised))
    assert run_r.info.status == "FAILED" and run_r.data.tags[tracking.STATUS_TAG] == "failed"
    assert run_r.data.tags[tracking.REASON_TAG].endswith("ValueError: bad")
    run_l = mlf.get_run(cb.run_id(lost))
    assert run_l.info.status == "RUNNING" and run_l.data.tags[tracking.RESTARTS_TAG] == "1"
    assert run_l.data.tags[tracking.RESTART_REASON_TAG] == (
        "The actor died unexpectedly before finishing this task.\n"
        "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR")
    assert exception_lines("Failure # 1\nTraceback (most recent call last):\n  File x\n"
                           "ValueError: bad\n") == "ValueError: bad"
