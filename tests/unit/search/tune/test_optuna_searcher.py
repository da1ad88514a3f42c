"""The searcher checkpoint is written only after a state change, and restores to the same state."""

from __future__ import annotations

import optuna

from search.tune.optuna_searcher import LazySaveOptunaSearch


def space(trial):
    trial.suggest_float("lr", 1e-3, 1.0, log=True)


def make(tmp_path, name="s"):
    return LazySaveOptunaSearch(space=space, metric="score", mode="max", study_name=name,
                                sampler=optuna.samplers.RandomSampler(seed=0),
                                storage=optuna.storages.RDBStorage(
                                    f"sqlite:///{tmp_path / 'optuna.db'}"))


def test_save_writes_only_after_a_change_and_restores(tmp_path):
    searcher = make(tmp_path)
    first, second, third = (tmp_path / n for n in ("a.pkl", "b.pkl", "c.pkl"))
    searcher.save(str(first))
    assert first.is_file()
    searcher.save(str(second))  # nothing changed: no file, Tune keeps the previous one
    assert not second.exists()

    config = searcher.suggest("t1")
    assert 1e-3 <= config["lr"] <= 1.0
    searcher.save(str(second))
    assert second.is_file()
    # an intermediate result leaves the searcher's state unchanged
    searcher.on_trial_result("t1", {"score": 0.1, "training_iteration": 1})
    searcher.save(str(third))
    assert not third.exists()
    searcher.on_trial_complete("t1", {"score": 0.7})
    searcher.save(str(third))
    assert third.is_file()

    restored = make(tmp_path)
    restored.restore(str(second))  # the state after the suggestion: t1 live
    assert "t1" in restored._ot_trials
    restored.on_trial_complete("t1", {"score": 0.7}, error=False)
    restored.save(str(tmp_path / "d.pkl"))  # a restored searcher always writes its first save
    assert (tmp_path / "d.pkl").is_file()
