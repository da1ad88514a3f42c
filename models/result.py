"""TrialResult: what one trial hands back (history, final metrics, baselines, filters)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from models.metrics import HEADLINE_METRIC, LOWER_IS_BETTER, TASK_METRICS


@dataclass
class TrialResult:
    """Outcome of ``run_trial``.

    Attributes:
        config: the TrialConfig (``config.to_dict()`` reproduces the trial).
        history: one dict per epoch: epoch, seconds, train_<metric>, val_<metric>. Train metrics
            come from the outputs seen while training that epoch (before each step). Regression is
            trained on the standardised target; its loss (MSE) and MAE are reported in target
            units (uB or eV per cell), like the baselines'.
        baselines: {"majority": {metric: value}, "composition": {...}, "integrals": {...}} on the
            same validation set ("integrals" where the cell volumes are known).
        filters: first-layer kernels (F, C, K, K, K), float32, after the last epoch.
        state_dict: the trained weights (``MagNet(config.model_config(), grid)`` loads them).
        train_composites, val_composites: the development composites trained and validated on
            (with k folds every one is in both lists: each is validated by the fold that left it
            out).
        test_composites: the held-out test split, never seen by the trial.
        folds: models trained side by side (1 with a single validation split).
        dropped: composites left out and why.
        resumed_from: epochs already done when the trial (re)started; 0 = fresh.
        diverged: the loss became NaN/inf (trial stopped); stopped_early: on_epoch asked to stop.
        seconds: wall time of the training epochs run in this call, s.
        grid: (Nx, Ny, Nz) training grid the network was built for.
        target_scale: (mean, std) of the target the first fold's network regresses, in target
            units (standardised outputs * std + mean; ``models.member.unscale``); (0, 1) for a
            softmax classifier. Saved with the weights (``models.saved``).
    """

    config: Any  # TrialConfig (not imported: result stays a leaf module)
    history: list[dict[str, float]]
    baselines: dict[str, dict[str, float]]
    filters: np.ndarray
    state_dict: dict[str, Any]
    train_composites: list[str]
    val_composites: list[str]
    test_composites: list[str] = field(default_factory=list)
    folds: int = 1
    dropped: dict[str, str] = field(default_factory=dict)
    resumed_from: int = 0
    diverged: bool = False
    stopped_early: bool = False
    seconds: float = 0.0
    grid: tuple[int, int, int] | None = None
    target_scale: tuple[float, float] = (0.0, 1.0)

    @property
    def task(self) -> str:
        """``class`` or ``reg``."""
        return "class" if "val_accuracy" in (self.history[-1] if self.history else {}) else "reg"

    @property
    def train_s(self) -> float:
        """Alias of ``seconds``: training wall time of this call, s."""
        return self.seconds

    @property
    def final(self) -> dict[str, float]:
        """Validation metrics of the last epoch (mean over folds), without the ``val_`` prefix."""
        last = self.history[-1] if self.history else {}
        return {k[4:]: v for k, v in last.items() if k.startswith("val_")}

    def beats_baselines(self, metric: str | None = None) -> bool:
        """Whether the CNN's final validation metric beats every baseline (MAE: lower is better)."""
        metric = metric or HEADLINE_METRIC[self.task][0]
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        cnn = sign * self.final.get(metric, math.nan)
        return all(cnn > sign * b.get(metric, math.nan) for b in self.baselines.values())

    def table(self) -> str:
        """Plain-text table of the final validation metrics: CNN vs baselines."""
        names = TASK_METRICS[self.task]
        rows = {"cnn": self.final, **self.baselines}
        lines = [f"{'model':<12}" + "".join(f"{n:>19}" for n in names)]
        for label, values in rows.items():
            cells = "".join(f"{values.get(n, math.nan):>19.4f}" for n in names)
            lines.append(f"{label:<12}{cells}")
        verdict = "beats" if self.beats_baselines() else "does NOT beat"
        if self.folds > 1:
            times = f" x {self.config.repeats} seeds" if self.config.repeats > 1 else ""
            split = (f"mean of {self.folds}-fold cross-validation{times} over "
                     f"{len(self.val_composites)} development composites")
        else:
            split = f"{len(self.train_composites)} train / {len(self.val_composites)} val"
        lines.append(f"-> the CNN {verdict} all baselines ({', '.join(self.baselines)}) on "
                     f"validation ({split}; "
                     f"{len(self.test_composites)} test composites held out)")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """Plain data for a tracker: history, ``final_<metric>``, ``baseline_<name>_<metric>``
        (flat), filters, epochs, train_s, diverged."""
        return {
            "history": [dict(h) for h in self.history],
            "final": {f"final_{k}": v for k, v in self.final.items()},
            "baselines": {f"baseline_{name}_{k}": v for name, values in self.baselines.items()
                          for k, v in values.items()},
            "filters": np.asarray(self.filters),
            "epochs": len(self.history),
            "train_s": float(self.seconds),
            "diverged": bool(self.diverged),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: flat config, history, final, baselines, filters as nested lists."""
        skip = ("config", "filters", "state_dict")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out.update(config=self.config.to_dict(), final=self.final, filters=self.filters.tolist())
        return out
