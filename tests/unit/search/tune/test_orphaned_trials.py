"""A finished search leaves no Optuna trial RUNNING (a driver kill can orphan one)."""

from __future__ import annotations

from types import SimpleNamespace

import optuna
from optuna.trial import TrialState

from search.tune.runner import close_orphaned_trials


def test_running_trials_of_a_finished_search_are_failed_with_a_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    done = study.ask()
    study.tell(done, 0.5)
    orphan = study.ask()  # handed out, never told: what a killed driver leaves behind
    n = close_orphaned_trials(SimpleNamespace(name="s"), SimpleNamespace(optuna_url=url))
    trials = optuna.load_study(study_name="s", storage=url).get_trials()
    assert n == 1
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert "killed" in trials[orphan.number].user_attrs["magvox_reason"]
    assert close_orphaned_trials(SimpleNamespace(name="s"), SimpleNamespace(optuna_url=url)) == 0
