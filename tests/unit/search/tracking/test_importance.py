"""Importance over a study where the answer is known: the metric depends on x alone."""

from __future__ import annotations

from pathlib import Path

import optuna

from search.tracking.importance import importances, plots, text


def _study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: 3.0 * t.suggest_float("x", 0, 1) + 0.01 * t.suggest_int("y", 0, 3),
                   n_trials=30)
    return study


def test_the_parameter_the_metric_depends_on_ranks_first(tmp_path: Path) -> None:
    found = importances(_study())
    for method in ("fanova", "ped_anova"):
        ranked = list(found[method])
        assert ranked[0] == "x" and found[method]["x"] > 0.8, (method, found[method])
    written = {p.name for p in plots(_study(), ["x", "y"], tmp_path)}
    assert {"history.html", "history.png", "contour.html", "contour.png",
            "importances.png", "slice.html", "parallel_coordinate.png"} <= written
    assert all((tmp_path / n).stat().st_size > 1000 for n in written)


def test_a_study_without_variance_says_why() -> None:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: 0.5 + 0 * t.suggest_float("x", 0, 1), n_trials=5)
    reasons: dict[str, str] = {}
    found = importances(study, reasons)
    assert found["fanova"] == {} and "variance" in reasons["fanova"]
    summary = {"trials": 5, "importance": found, "not_computable": reasons,
               "note": "only 5 finished trials"}
    assert "fanova: not computable (" in text(summary)
