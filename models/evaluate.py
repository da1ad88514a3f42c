"""The held-out test score of one configuration, beside the baselines, with bootstrap intervals.

    report = score_test_split(config, "data/cgt_te.zarr")
    print(report.line())

One network is trained on every development composite (the folds' union) for the configuration's
epochs, then scores the dataset's test composites, which no search trial has seen. The majority,
composition and input-integrals baselines are fitted on the same development composites and score
the same test composites. Intervals are 95% percentile bootstraps over test composites (stratified
by class for classification, so every resample holds both classes), and each baseline comparison is
a paired bootstrap of the difference: the CNN beats a baseline "beyond the interval" only when the
whole interval of the difference lies on its side of zero. With a dozen test composites one
composite moves balanced accuracy by several points; the intervals say so. Where a class has fewer
than ``MIN_PER_CLASS`` composites in the split, balanced accuracy's half for that class takes one
of a few values that no resampling can move: the report says so and makes no claim "beyond the
interval".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from models.baselines import composition_scores, integrals_scores, majority_scores
from models.composition import composition_input
from models.device import resolve_device
from models.member import new_member, predict, train_epoch
from models.metrics import HEADLINE_METRIC, balanced_accuracy, mae
from models.train import make_augmenter, prepare
from models.trial import TrialConfig

METRIC = {task: name for task, (name, _) in HEADLINE_METRIC.items()}  # task -> metric
BASELINES = ("majority", "composition", "integrals")
MIN_PER_CLASS = 5  # fewer composites of a class in a split: no interval is claimed for it
CLASS_NAMES = {"ground_state": {0: "AFM", 1: "FM"},
               "moment_class": {0: "low-moment", 1: "high-moment"}}


def class_name(target: str, value: int) -> str:
    """``class 0 (AFM)`` for ground_state, ``class 0`` where the target has no names."""
    name = CLASS_NAMES.get(target, {}).get(int(value))
    return f"class {value} ({name})" if name else f"class {value}"


def score(task: str, y: np.ndarray, pred: np.ndarray) -> np.ndarray | float:
    """Balanced accuracy of P(class 1) >= 0.5 (class) or mean absolute error (reg), along the
    last axis: (..., N) -> (...) (all bootstrap resamples at once)."""
    if task == "class":
        return balanced_accuracy(y, (pred >= 0.5).astype(int))
    return mae(y, pred)


def _resamples(task: str, y: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) bootstrap indices; stratified by class for classification."""
    rng = np.random.default_rng(seed)
    if task != "class":
        return rng.integers(0, len(y), size=(n_boot, len(y)))
    parts = [rng.choice(np.flatnonzero(y == c), size=(n_boot, int((y == c).sum())))
             for c in np.unique(y)]
    return np.concatenate(parts, axis=1)


@dataclass
class TestReport:
    """Scores on the test split: ``scores[model] = (value, lo, hi)``, ``differences[baseline] =
    (value, lo, hi)`` of the CNN's advantage (positive = CNN better, for MAE too); ``y`` the
    test labels and ``predictions[model]`` each model's P(class 1) or value per test composite
    (in ``test_composites`` order); ``seed_scores`` / ``seed_predictions`` the same network
    trained with each seed (``score_test_split(seeds=...)``)."""

    target: str
    task: str
    metric: str
    n_dev: int
    test_composites: list[str]
    scores: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    differences: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    y: list[float] = field(default_factory=list)
    predictions: dict[str, list[float]] = field(default_factory=dict)
    seed_scores: list[float] = field(default_factory=list)
    seed_predictions: list[list[float]] = field(default_factory=list)
    folds: int = 0  # > 0: out-of-fold predictions over the development composites, no test split

    def beats(self, baseline: str) -> bool:
        """Whether the CNN beats ``baseline`` beyond the 95% interval of the difference (never
        where a class is too small for an interval)."""
        return not self.small_classes() and self.differences[baseline][1] > 0

    def small_classes(self) -> dict[int, int]:
        """Classes with fewer than ``MIN_PER_CLASS`` composites in the split: class -> count."""
        if self.task != "class" or not self.y:
            return {}
        values, counts = np.unique(np.asarray(self.y, dtype=int), return_counts=True)
        return {int(v): int(n) for v, n in zip(values, counts, strict=True)
                if n < MIN_PER_CLASS}

    def verdict(self) -> str:
        """One plain sentence: does the CNN beat every baseline beyond the interval?"""
        small = self.small_classes()
        if small:
            few = ", ".join(f"{n} composite{'s' if n != 1 else ''} of "
                            f"{class_name(self.target, c)}" for c, n in small.items())
            return (f"{few} in this split: no interval, so no baseline is claimed beaten beyond "
                    f"it (balanced accuracy moves by 1/{2 * min(small.values())} per composite "
                    f"of that class)")
        names = list(self.differences)
        won = [b for b in names if self.beats(b)]
        if len(won) == len(names):
            return f"the CNN beats every baseline ({', '.join(names)}) beyond the 95% interval"
        if won:
            lost = [b for b in names if b not in won]
            return (f"the CNN beats the {' and '.join(won)} baseline beyond the 95% interval, "
                    f"not the {' and '.join(lost)} baseline")
        return "the CNN does not beat any baseline beyond the 95% interval"

    def line(self) -> str:
        """The test-split comparison in plain words (one line per model, then the verdict)."""
        def fmt(v: tuple[float, float, float]) -> str:
            return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

        counts = ""
        if self.task == "class" and self.y:
            values, n = np.unique(np.asarray(self.y, dtype=int), return_counts=True)
            counts = " (" + ", ".join(f"{k} of {class_name(self.target, v)}"
                                      for v, k in zip(values, n, strict=True)) + ")"
        head = (f"test split: {len(self.test_composites)} composites{counts} never seen by the "
                f"search ({self.target}, {self.metric}, 95% bootstrap intervals; trained on "
                f"{self.n_dev} development composites)")
        if self.folds:
            head = (f"development folds: {len(self.test_composites)} composites{counts}, each "
                    f"predicted by the networks and baselines of the {self.folds}-fold "
                    f"cross-validation fold that left it out ({self.target}, {self.metric}, 95% "
                    "bootstrap intervals; the test split untouched)")
        rows = [f"  {name:<12} {fmt(v)}" for name, v in self.scores.items()]
        if len(self.seed_scores) > 1:
            rows.append(f"  CNN trained with {len(self.seed_scores)} seeds: "
                        f"{np.mean(self.seed_scores):.3f} +- {np.std(self.seed_scores):.3f} "
                        f"(the single run above is the first)")
        diffs = [f"  CNN - {name}: {fmt(v)}{' (lower MAE is better)' if self.task == 'reg' else ''}"
                 for name, v in self.differences.items()]
        return "\n".join([head, *rows, *diffs, f"-> {self.verdict()}"])

    def flat(self) -> dict[str, float]:
        """``test_<model>_<metric>`` (+ ``_lo``, ``_hi``) and ``test_n_composites``, for MLflow."""
        out: dict[str, float] = {"test_n_composites": float(len(self.test_composites))}
        for name, (v, lo, hi) in {**self.scores,
                                  **{f"cnn_minus_{k}": d for k, d in self.differences.items()}
                                  }.items():
            out.update({f"test_{name}_{self.metric}": v, f"test_{name}_{self.metric}_lo": lo,
                        f"test_{name}_{self.metric}_hi": hi})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (with the verdict)."""
        return {**asdict(self), "verdict": self.verdict()}


def compare(task: str, y: np.ndarray, preds: dict[str, np.ndarray], *, n_boot: int = 2000,
            seed: int = 0) -> tuple[dict, dict]:
    """Scores with intervals per model, and the CNN's paired advantage over each baseline."""
    boots = _resamples(task, y, n_boot, seed)
    sign = 1.0 if task == "class" else -1.0  # positive difference = CNN better
    samples = {k: score(task, y[boots], p[boots]) for k, p in preds.items()}
    scores = {k: (float(score(task, y, p)), *np.percentile(samples[k], [2.5, 97.5]))
              for k, p in preds.items()}
    diffs = {}
    for name in (k for k in preds if k != "cnn"):
        d = sign * (samples["cnn"] - samples[name])
        diffs[name] = (sign * (scores["cnn"][0] - scores[name][0]), *np.percentile(d, [2.5, 97.5]))
    as_float = {k: tuple(float(v) for v in t) for k, t in scores.items()}
    return as_float, {k: tuple(float(v) for v in t) for k, t in diffs.items()}


def _train_and_predict(config: TrialConfig, samples: Any, x: torch.Tensor, dev: np.ndarray,
                       test: np.ndarray, seeds: int) -> list[np.ndarray]:
    """One network per seed (config.seed, + 1, ...) trained on ``dev``; -> its test scores."""
    augment = make_augmenter(config, samples)
    comp = composition_input(config.model.head, samples.composites, x.device)
    out, cache = [], None
    for r in range(seeds):
        run = config.replace(seed=config.seed + r)  # new initial weights and batch order
        member = new_member(run, x, samples.y, samples.grid, (dev, test), cache=cache,
                            value=samples.value, composition=comp, aux=samples.aux)
        cache = member.cache
        for epoch in range(run.epochs):
            train_epoch(run, member, x, augment, epoch)
        with torch.no_grad():
            out.append(predict(run, member, x, test)[1])
    return out


def score_test_split(config: TrialConfig | dict[str, Any], dataset: Any, *,
                     device: str = "cpu", n_boot: int = 2000, seed: int = 0,
                     seeds: int = 1) -> TestReport:
    """Train ``config`` on all development composites and score the held-out test split.

    ``seeds`` > 1: the configuration is trained that many times (seeds config.seed, + 1, ...);
    the first is the report's ``cnn`` (the single run), every one's score is in ``seed_scores``
    and its predictions in ``seed_predictions`` (the spread a single run hides).
    """
    where = resolve_device(device)
    config, samples, x = prepare(config, dataset, where)
    dev, test = np.flatnonzero(~samples.test), np.flatnonzero(samples.test)
    if len(test) == 0 or len(dev) == 0:
        raise ValueError("the dataset has no held-out test composites with this target's label")
    runs, preds = _split_predictions(config, samples, x, dev, test, max(1, seeds))
    return _report(config, samples, len(dev), test, runs, preds, n_boot, seed)


def score_development_folds(config: TrialConfig | dict[str, Any], dataset: Any, *,
                            folds: int = 4, device: str = "cpu", n_boot: int = 2000,
                            seed: int = 0) -> TestReport:
    """``config`` scored by k-fold cross-validation over the development composites only (the
    held-out test split is never read): each composite is predicted by the network trained on
    the other folds (``config.epochs`` epochs, seed ``config.seed``) and by the baselines fitted
    on them; the out-of-fold predictions are pooled into one report (``folds`` set, the
    composites in fold order). Folds stratified by label and X, as a search's (``seed``)."""
    from models.split import development_splits

    where = resolve_device(device)
    config, samples, x = prepare(config, dataset, where)
    splits = development_splits(samples.composites, samples.y, samples.test,
                                classification=config.task == "class", seed=seed, folds=folds)
    order, runs, preds = [], [], {}
    for train, val in splits:
        fold_runs, fold_preds = _split_predictions(config, samples, x, train, val, 1)
        order.append(val)
        runs.append(fold_runs[0])
        for name, p in fold_preds.items():
            preds.setdefault(name, []).append(p)
    scored = np.concatenate(order)
    report = _report(config, samples, int((~samples.test).sum()), scored,
                     [np.concatenate(runs)], {k: np.concatenate(v) for k, v in preds.items()},
                     n_boot, seed)
    report.folds = folds
    return report


def _split_predictions(config: TrialConfig, samples: Any, x: torch.Tensor, train: np.ndarray,
                       scored: np.ndarray, seeds: int
                       ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Networks (one per seed) and baselines fitted on ``train``, predicting ``scored``: ->
    (each seed's predictions, {model: predictions}; ``cnn`` the first seed's)."""
    runs = _train_and_predict(config, samples, x, train, scored, seeds)
    y, task = samples.y, config.task
    preds = {"cnn": runs[0], "majority": majority_scores(task, y[train], len(scored)),
             "composition": composition_scores(task, samples.composites, y, train, scored)}
    if samples.integrals_uB is not None:
        preds["integrals"] = integrals_scores(task, samples.integrals_uB, y, train, scored)
    return runs, preds


def _report(config: TrialConfig, samples: Any, n_dev: int, scored: np.ndarray,
            runs: list[np.ndarray], preds: dict[str, np.ndarray], n_boot: int,
            seed: int) -> TestReport:
    y, task = samples.y, config.task
    scores, diffs = compare(task, y[scored], preds, n_boot=n_boot, seed=seed)
    return TestReport(config.target, task, METRIC[task], n_dev,
                      [samples.composites[i] for i in scored], scores, diffs,
                      [float(v) for v in y[scored]],
                      {k: [float(v) for v in p] for k, p in preds.items()},
                      [float(score(task, y[scored], p)) for p in runs],
                      [[float(v) for v in p] for p in runs])
