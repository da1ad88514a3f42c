"""The allocation of a submitted search ends in the middle, three ways, and the search goes on
with nothing lost: (a) ``scontrol requeue`` (the job starts again and resumes by itself), (b) the
time limit (SIGUSR1 ahead of it: the driver stops and saves, the job requeues itself), (c)
``scancel`` then ``magvox search resume NAME --slurm``. Each checks that no finished trial is
lost or trained again, that the Optuna history is intact and that each trial has one MLflow run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from slurm_search_support import (
    cluster_yaml,
    job_ids,
    job_log,
    kill_ray_of,
    start_on_slurm,
    trial_runs,
    wait_job_done,
)
from test_search_support import completed_trials, magvox, optuna_trials, wait_until

from search.cluster.spec import parse_time

pytestmark = pytest.mark.slow
TRIALS = 10  # of 10 epochs each (1 epoch is so short that the search would end first)
NAME = "lost"


class Search:
    """A search submitted to the test Slurm, and what it had done when its allocation ended."""

    def __init__(self, slurm, folder: Path, trials: int = TRIALS, epochs: int = 10,
                 **slurm_keys: object) -> None:
        self.slurm, self.root, self.trials = slurm, folder / "s", trials
        self.folder = self.root / NAME
        self.cluster = cluster_yaml(folder, slurm=slurm_keys)
        self.job = start_on_slurm(slurm, folder, NAME, trials, self.cluster, epochs)
        self.before: dict[str, int] = {}
        self.history: dict = {}

    def wait_for_trials(self, n: int, timeout: float = 300) -> None:
        def done() -> bool:
            state = self.slurm.job_field(self.job, "JobState")
            assert state in ("PENDING", "RUNNING", "CONFIGURING"), job_log(self.folder, self.job)
            return len(completed_trials(self.root, NAME)) >= n
        wait_until(done, timeout)

    def snapshot(self) -> None:
        """What is finished once the driver is gone (the job is out of RUNNING)."""
        self.before = completed_trials(self.root, NAME)
        self.history = optuna_trials(self.folder)
        assert len(self.before) < self.trials, "the search ended before its allocation did"

    def wait_state(self, *states: str, timeout: float = 120) -> None:
        wait_until(lambda: self.slurm.job_field(self.job, "JobState") in states, timeout)

    def check_nothing_lost(self, job: str) -> str:
        """The job ended well; finished trials kept, not re-run; Optuna and MLflow whole."""
        state = wait_job_done(self.slurm, self.folder, job, 420)
        log = job_log(self.folder, job)
        assert state == "COMPLETED", log[-5000:]
        after = completed_trials(self.root, NAME)
        assert len(after) == self.trials and set(self.before) <= set(after), log[-3000:]
        assert all(after[t] == self.before[t] for t in self.before)  # no epoch trained again
        final = optuna_trials(self.folder)
        assert all(final[n][1] == params for n, (_, params) in self.history.items())
        assert [s for s, _ in final.values()].count("COMPLETE") == self.trials
        assert all(len(runs) == 1 for runs in trial_runs(self.root, NAME).values())
        assert json.loads((self.folder / "search.json").read_text())["status"] == "finished"
        return log


@pytest.fixture
def cleanup():
    searches: list[Search] = []
    yield searches.append
    for search in searches:
        kill_ray_of(search.cluster)


def test_requeued_job_resumes_the_search_by_itself(slurm, tmp_path: Path, cleanup) -> None:
    search = Search(slurm, tmp_path)
    cleanup(search)
    search.wait_for_trials(2)
    slurm.run("scontrol", "requeue", search.job)
    search.wait_state("PENDING")  # old driver and Ray gone; waits cred_expire before starting
    search.snapshot()
    log = search.check_nothing_lost(search.job)
    assert slurm.job_field(search.job, "Restarts") == "1"
    assert "(restart 1)" in log


def test_time_limit_stops_saves_and_requeues(slurm, tmp_path: Path, cleanup) -> None:
    # SIGUSR1 180 s before the time limit (--signal=B:USR1@180). Slurm looks at time limits every
    # 30 s, so the search must outlast that by far: 100 trials of 20 epochs (a trial takes ~2.5 s,
    # two at a time: ~2 min on an idle 2 cores; 40 trials ended first once in CI)
    search = Search(slurm, tmp_path, trials=100, epochs=20, time="00:15:00", signal_s=180)
    cleanup(search)
    search.wait_for_trials(1)
    # bring the end near: 60-120 s left, so Slurm (checking every 30 s) signals at once
    ran = parse_time(slurm.job_field(search.job, "RunTime"))
    slurm.run("scontrol", "update", f"JobId={search.job}", f"TimeLimit={ran // 60 + 2}")

    def requeued() -> bool:
        state = slurm.job_field(search.job, "JobState")
        assert state != "COMPLETED", "the search ended before Slurm signalled:\n" + job_log(
            search.folder, search.job)[-3000:]
        return slurm.job_field(search.job, "Restarts") == "1"

    wait_until(requeued, 150)
    search.wait_state("PENDING")
    search.snapshot()
    # the requeued job gets time enough to finish (else it would stop and requeue again)
    slurm.run("scontrol", "update", f"JobId={search.job}", "TimeLimit=00:15:00")
    log = search.check_nothing_lost(search.job)
    assert "search saved, requeueing job" in log and f"search {NAME}: interrupted" in log
    assert "TIMEOUT" not in slurm.job_field(search.job, "JobState")


def test_cancelled_search_is_resubmitted_with_resume_slurm(slurm, tmp_path: Path,
                                                           cleanup) -> None:
    search = Search(slurm, tmp_path)
    cleanup(search)
    search.wait_for_trials(2)
    slurm.run("scancel", search.job)
    search.wait_state("CANCELLED")
    search.snapshot()
    where = ["--root", str(search.root)]
    magvox("search", "resume", NAME, "--slurm", str(search.cluster), *where, cwd=tmp_path,
           env=slurm.env)
    first, second = job_ids(search.folder)
    assert first == search.job and second != first
    # while the new job is queued or running: status shows it, a second resubmission is refused
    out = magvox("search", "status", NAME, *where, cwd=tmp_path, env=slurm.env).stdout
    assert re.search(rf"Slurm job {second}: (PENDING|RUNNING|CONFIGURING)", out), out
    again = magvox("search", "resume", NAME, "--slurm", str(search.cluster), *where,
                   cwd=tmp_path, env=slurm.env, check=False)
    assert again.returncode == 2 and f"Slurm job {second} is" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    search.check_nothing_lost(second)
