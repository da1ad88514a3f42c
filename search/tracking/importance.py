"""Which hyperparameters mattered: Optuna's importance and plots over a search's trials.

    summary = importance.analyse(record, paths)        # at the end of a search, or on demand

fANOVA (a random forest's functional ANOVA of the metric over the sampled parameters) and PED-ANOVA
(which parameters separate the best quantile of trials from the rest) are computed over the Optuna
study's finished trials; both need many trials to mean anything, and below ``FEW_TRIALS`` the
summary says so. The plots (optimization history, parallel coordinate, slice, importances, and the
contour of the two most important parameters) are written as interactive HTML (plotly, loading
plotly.js from its CDN: 10 kB a plot instead of 3.5 MB) and PNG (matplotlib, for a browser without
internet) and logged, with ``importance.json``, on the search's parent run under ``importance/``.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

from search.tracking import client as tracking
from search.tune.state import SearchPaths, SearchRecord

FEW_TRIALS = 20
ARTIFACTS = "importance"


def study_of(record: SearchRecord, paths: SearchPaths) -> Any:
    """The search's Optuna study (the sampler's whole history)."""
    import optuna

    return optuna.load_study(study_name=record.name, storage=paths.optuna_url)


def importances(study: Any, reasons: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """{"fanova": {param: share}, "ped_anova": {...}} over the finished trials; {} for a method
    that cannot run (every trial at one value: "zero total variance"), its reason in
    ``reasons``."""
    import optuna

    out: dict[str, dict[str, float]] = {}
    evaluators = {"fanova": optuna.importance.FanovaImportanceEvaluator(seed=0),
                  "ped_anova": optuna.importance.PedAnovaImportanceEvaluator()}
    for name, evaluator in evaluators.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ExperimentalWarning of PED-ANOVA
                found = optuna.importance.get_param_importances(study, evaluator=evaluator)
        except (RuntimeError, ValueError, ZeroDivisionError) as exc:
            found = {}
            if reasons is not None:
                reasons[name] = str(exc)
        out[name] = {k: float(v) for k, v in found.items()}
    return out


def _finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def plots(study: Any, ranked: list[str], folder: Path) -> list[Path]:
    """Write the plots into ``folder`` as HTML and PNG; -> their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization as vis
    import optuna.visualization.matplotlib as vis_mpl

    kinds = {"history": ("plot_optimization_history", {}),
             "parallel_coordinate": ("plot_parallel_coordinate", {}),
             "slice": ("plot_slice", {}), "importances": ("plot_param_importances", {})}
    if len(ranked) >= 2:
        kinds["contour"] = ("plot_contour", {"params": ranked[:2]})
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib backend: ExperimentalWarning
        for name, (function, kwargs) in kinds.items():
            try:
                html = folder / f"{name}.html"
                getattr(vis, function)(study, **kwargs).write_html(str(html),
                                                                  include_plotlyjs="cdn")
                ax = getattr(vis_mpl, function)(study, **kwargs)
                fig = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
                png = folder / f"{name}.png"
                fig.savefig(png, dpi=90, bbox_inches="tight")
                plt.close(fig)
                written += [html, png]
            except (ValueError, RuntimeError):  # e.g. contour with a single value
                continue
    return written


def analyse(record: SearchRecord, paths: SearchPaths, log: bool = True) -> dict[str, Any]:
    """Importance and plots of the search so far; logged on the parent run when ``log``."""
    study = study_of(record, paths)
    n = len(_finished(study))
    summary: dict[str, Any] = {"trials": n, "importance": {}}
    if n < 2:
        summary["note"] = f"{n} finished trial(s): no importance"
        return summary
    summary["not_computable"] = {}
    summary["importance"] = importances(study, summary["not_computable"])
    if n < FEW_TRIALS:
        summary["note"] = (f"only {n} finished trials: importance below ~{FEW_TRIALS} trials "
                           f"means little")
    if log:
        _log(record, study, summary)
    return summary


def _log(record: SearchRecord, study: Any, summary: dict[str, Any]) -> None:
    fanova = summary["importance"].get("fanova", {})
    ranked = list(fanova) or list(summary["importance"].get("ped_anova", {}))
    mlf = tracking.client(record.tracking_uri)
    metrics = {f"importance_{m}_{p}": v for m, found in summary["importance"].items()
               for p, v in found.items()}
    tracking.log_metrics(mlf, record.parent_run_id, metrics)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "importance.json").write_text(json.dumps(summary, indent=1))
        for path in [folder / "importance.json", *plots(study, ranked, folder)]:
            mlf.log_artifact(record.parent_run_id, str(path), ARTIFACTS)


def text(summary: dict[str, Any]) -> str:
    """The importances as plain lines, the warning first."""
    lines = [f"hyperparameter importance over {summary['trials']} finished trials"]
    if summary.get("note"):
        lines.append(f"  warning: {summary['note']}")
    why = summary.get("not_computable", {})
    for method, found in summary["importance"].items():
        cells = (", ".join(f"{p} {v:.2f}" for p, v in found.items())
                 or f"not computable ({why.get(method, 'no reason given')})")
        lines.append(f"  {method}: {cells}")
    return "\n".join(lines)
