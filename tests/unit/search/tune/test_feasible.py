"""The feasibility wrapper: rejected draws are recorded and told as failed, Tune sees only
feasible ones under its own trial ids, and its state survives a save/restore."""

from __future__ import annotations

from ray.tune.search import Searcher

from search.tracking.report import train_command
from search.tune.feasible import FeasibleSearch


class Counting(Searcher):
    """Suggests {"k": 1}, {"k": 2}, ... and remembers what it was told."""

    def __init__(self) -> None:
        super().__init__(metric="m", mode="max")
        self.n, self.failed, self.done, self.results = 0, [], [], []

    def suggest(self, trial_id: str) -> dict:
        self.n += 1
        return {"k": self.n}

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.results.append(trial_id)

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        (self.failed if error else self.done).append(trial_id)


def test_infeasible_draws_are_recorded_and_skipped() -> None:
    inner, recorded = Counting(), []
    search = FeasibleSearch(inner, lambda c: None if c["k"] % 3 == 0 else f"k={c['k']} bad",
                            lambda rid, c, why: recorded.append((rid, c["k"], why)))
    assert search.suggest("t1") == {"k": 3}
    assert [k for _, k, _ in recorded] == [1, 2] and recorded[0][2] == "k=1 bad"
    assert inner.failed == ["t1-draw0", "t1-draw1"]
    search.on_trial_result("t1", {"m": 1.0})
    search.on_trial_complete("t1", {"m": 1.0})
    assert inner.results == [] and inner.done == ["t1-draw2"]  # ASHA prunes, not Optuna
    again = FeasibleSearch(Counting(), lambda c: None, lambda *a: None)
    again.set_state(search.get_state())
    assert again.alias == {"t1": "t1-draw2"} and again.rejected == 2


def test_a_trial_that_raised_is_told_to_optuna_as_failed() -> None:
    from search.tracking.callbacks import STATUS_KEY

    inner = Counting()
    search = FeasibleSearch(inner, lambda c: None, lambda *a: None)
    search.suggest("a"), search.suggest("b")
    search.on_trial_complete("a", {STATUS_KEY: "failed", "reason": "ValueError: x"})
    search.on_trial_complete("b", {STATUS_KEY: "completed", "m": 0.5})
    assert inner.failed == ["a-draw0"] and inner.done == ["b-draw1"]


def test_too_many_infeasible_draws_raise_with_advice() -> None:
    search = FeasibleSearch(Counting(), lambda c: "no", lambda *a: None, max_tries=5)
    try:
        search.suggest("t")
    except RuntimeError as exc:
        assert "narrow the space" in str(exc)
    else:
        raise AssertionError("expected RuntimeError")


def test_train_command_reproduces_the_fields() -> None:
    cmd = train_command({"preset": "seed-small", "kernel_sizes": (5, 3), "lr": 0.5})
    assert cmd == "magvox train --preset seed-small --set 'kernel_sizes=[5,3]' --set lr=0.5"


def test_memory_check_counts_the_dataset_samples_of_the_trial_configuration() -> None:
    from search.tune.runner import FeasibilityCheck
    from search.tune.space import load_space

    raw = load_space("default").to_dict()
    raw.update(fixed={"preset": "seed-base", "target": "ground_state"}, params={})
    grid = (60, 60, 120)
    small = FeasibilityCheck(raw, grid, 4000, {"FM": 10, "AFM-Neel": 5000})
    assert small({}) is None  # seed-base holds 10 FM samples: ~1.2 GB
    big = FeasibilityCheck(raw, grid, 4000, {"FM": 5000})
    reason = big({})
    assert reason is not None and "exceeds settings.max_memory_mb = 4000 MB" in reason


def test_a_compute_budget_refuses_hour_long_trials_and_keeps_the_base_model() -> None:
    """table2 on CPUs: a direct 24^3 conv on the 2x2-tiled input (a trial of hours here) is
    refused under settings.max_train_tflop, the original base model (FFT) is not; no budget
    (0, the default) refuses neither."""
    from search.tune.runner import FeasibilityCheck
    from search.tune.space import load_space

    space = load_space("table2", {"settings.max_train_tflop": 20})
    assert space.settings.max_train_tflop == 20
    raw = space.to_dict()
    raw["params"] = {}
    slow = {"preset": "seed-base", "conv_filters": [4, 1], "kernel_sizes": [24, 4],
            "strides": [1, 5], "pool_sizes": [2, 3], "backend": "direct", "epochs": 2,
            "batch_size": 20, "lr": 0.02, "momentum": 0.1, "tiling": [2, 2, 1],
            "target": "ground_state", "optimizer": "sgd"}
    grid, samples = (60, 60, 120), {"FM": 130}
    capped = FeasibilityCheck({**raw, "fixed": slow}, grid, 16000, samples, 20.0)
    reason = capped({})
    assert reason is not None and reason.startswith("compute: estimated ")
    assert "(2 epochs x 4 folds) exceeds settings.max_train_tflop = 20" in reason
    assert FeasibilityCheck({**raw, "fixed": {**slow, "backend": "fft"}}, grid, 16000, samples,
                            20.0)({}) is None  # the same network through the FFT
    base = {"preset": "seed-base", "target": "ground_state"}
    assert FeasibilityCheck({**raw, "fixed": base}, grid, 16000, samples, 20.0)({}) is None
    assert FeasibilityCheck({**raw, "fixed": slow}, grid, 16000, samples)({}) is None
