"""Learning-rate x batch-size grids scored on the development folds only (never the test split).

    python -m models.sweep --target moment --lr 0.005 0.01 0.03 0.1 --batch 2 4 8 \
        --out data/derivations/lr_moment.json

Each configuration (the default search's learner for the target, ``search.tune.sampling.
default_learner``, with that lr and batch) is cross-validated over the development composites
(``models.evaluate.score_development_folds``, the search's fold count) with several seeds; the
rows give the pooled out-of-fold metric per seed, their mean and spread. What the default space
fixes or ranges for a target is read from such a table, so nothing is chosen on the test split.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from data_prep import BUNDLED_DATASET


def sweep(target: str, lrs: list[float], batches: list[int], seeds: int, dataset: str,
          overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per (lr, batch): the pooled development-fold metric of each seed (seeds 0..n-1),
    their mean and standard deviation, and the wall time (s)."""
    from models.evaluate import score_development_folds
    from search.tune.sampling import default_learner

    rows = []
    for lr in lrs:
        for batch in batches:
            base = default_learner({"target": target, **(overrides or {}), "lr": lr,
                                    "batch_size": batch})
            start, scores = time.time(), []
            for seed in range(seeds):
                report = score_development_folds({**base, "seed": seed}, dataset,
                                                 folds=int(base.get("folds", 3)))
                scores.append(report.scores["cnn"][0])
            rows.append({"lr": lr, "batch_size": batch, "metric": report.metric,
                         "scores": scores, "mean": float(np.mean(scores)),
                         "std": float(np.std(scores)), "seconds": round(time.time() - start, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run a sweep and write it (with the command, date and dataset) as JSON."""
    import sys
    from datetime import UTC, datetime

    from data_prep.io.fileio import write_text_atomic
    from search.tune.overrides import parse_sets

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--lr", type=float, nargs="+", required=True)
    parser.add_argument("--batch", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--dataset", default=str(BUNDLED_DATASET))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    rows = sweep(args.target, args.lr, args.batch, args.seeds, args.dataset,
                 parse_sets(args.overrides))
    record = {"command": " ".join(["python -m models.sweep", *(argv or sys.argv[1:])]),
              "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "dataset": Path(args.dataset).name, "split": "development folds only",
              "rows": rows}
    write_text_atomic(Path(args.out), json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
