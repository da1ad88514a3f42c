"""The hyperparameter search: ``start`` a search, ``resume`` it after a crash, ``extend`` a finished
one with more trials, ``status``, ``best``;
``assess`` runs a whole search inside each fold of a nested cross-validation; ``compare`` pairs
assessments made on the same outer folds.

With no arguments, ``magvox search start`` runs the small default space on the bundled dataset
(data/cgt_te.zarr) on a private local Ray cluster, logging to ./searches/mlflow.db; watch it with
``magvox ui``. The full Table 2 space is ``--space table2``.
"""

from __future__ import annotations

import argparse

from data_prep import BUNDLED_DATASET, TARGET_COLUMNS
from search.learning_bench import TARGETS as LEARNING_TARGETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="start a new search")
    start.add_argument("--space", help="space YAML file or bundled name (default, table2, tiny)")
    start.add_argument("--sampler", choices=("random", "tpe"), help="Optuna sampler")
    start.add_argument("--trials", type=int, help="number of (feasible) trials")
    start.add_argument("--name", help="search name (default: <space>-<sampler>)")
    start.add_argument("--seed", type=int, help="sampler seed")
    start.add_argument("--dataset", help="Zarr dataset or a YAML list of stores (default: the "
                       "space's, else the bundled one)")
    start.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="fix a trial field for every trial, e.g. "
                       "target=moment (overrides the space's fixed value or sampled param)")
    start.add_argument("--final-seeds", type=int, default=1,
                       help="networks (seeds) the best configuration is trained with for the "
                            "end-of-search test report (default 1; 5 gives mean +- std)")
    start.add_argument("--warm-start", metavar="SEARCH",
                       help="try the best trials of this earlier search first (under --root; a "
                            "field this space does not know is refused by name)")
    start.add_argument("--warm-k", type=int, default=3,
                       help="with --warm-start: how many of its best trials (default 3)")
    _common(start)
    start.add_argument("--tracking-uri", help="MLflow tracking URI (default: searches/mlflow.db)")
    start.add_argument("--slurm", metavar="CLUSTER_YAML",
                       help="write and submit a SLURM job running this search (see cluster.yaml)")
    start.add_argument("--dry-run", action="store_true",
                       help="with --slurm: write the batch script, do not submit")
    resume = sub.add_parser("resume", help="finish an interrupted search")
    resume.add_argument("name")
    _common(resume)
    resume.add_argument("--slurm", metavar="CLUSTER_YAML", help="submit the search again to SLURM")
    resume.add_argument("--dry-run", action="store_true", help="with --slurm: do not submit")
    extend = sub.add_parser("extend", help="more trials for a finished search (same Optuna "
                            "study and MLflow experiment; `resume` continues it after a kill)")
    extend.add_argument("name")
    extend.add_argument("--trials", type=int, required=True, help="how many more trials")
    _common(extend)
    extend.add_argument("--slurm", metavar="CLUSTER_YAML",
                        help="run the new trials in a SLURM job (see cluster.yaml)")
    extend.add_argument("--dry-run", action="store_true", help="with --slurm: do not submit")
    assess = sub.add_parser("assess", help="nested cross-validation of a whole search over every "
                            "labelled composite: the figure of record (runs again = resumes)")
    assess.add_argument("name", help="name of the assessment (its folder under --root)")
    assess.add_argument("--space", help="space YAML file or bundled name (default, table2)")
    assess.add_argument("--sampler", choices=("random", "tpe"), help="Optuna sampler")
    assess.add_argument("--trials", type=int, help="trials of each outer fold's search")
    assess.add_argument("--outer-folds", type=int, default=5,
                        help="outer folds by composite, stratified by label and X (default 5)")
    assess.add_argument("--seed", type=int, help="seed of the outer folds and the sampler")
    assess.add_argument("--final-seeds", type=int, default=5,
                        help="networks (seeds) the selected configuration of each outer fold is "
                             "trained with and scored by (default 5: mean +- std)")
    assess.add_argument("--dataset", help="Zarr dataset or a YAML list of stores (default: the "
                        "space's, else the bundled one)")
    assess.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="fix a trial field, e.g. target=moment")
    _common(assess)
    comp = sub.add_parser("compare", help="two or more assessments on the same outer folds: "
                          "the first one's paired difference against each, overall and per X")
    comp.add_argument("names", nargs="+", metavar="NAME",
                      help="assessments (names under --root or data/assessments, or folders)")
    comp.add_argument("--root", help="searches folder (default $MAGVOX_SEARCHES or ./searches)")
    comp.add_argument("--out", help="also write the comparison as JSON to this file")
    bench = sub.add_parser("bench", help="measure service overhead, trials/hour, TPE vs random")
    bench.add_argument("--dataset", default=str(BUNDLED_DATASET),
                       help="dataset to search on (default: the bundled one)")
    bench.add_argument("--trials", type=int,
                       help="trials per search (default 8; --learning: the space's)")
    bench.add_argument("--seeds", type=int, default=3, help="seeds for TPE vs random")
    bench.add_argument("--target", default="ground_state",
                       help="target of the TPE/random comparison (both classes must occur)")
    bench.add_argument("--out", default="BENCHMARKS.md", help="file to append the section to")
    bench.add_argument("--learning", action="store_true",
                       help="instead: the learning table (default search per target, best CNN "
                            "on the test split against the baselines)")
    bench.add_argument("--learning-targets", nargs="+", metavar="TARGET",
                       choices=list(TARGET_COLUMNS),
                       help="--learning: these targets only (default: "
                            f"{' '.join(LEARNING_TARGETS)})")
    bench.add_argument("--slurm", metavar="CLUSTER_YAML",
                       help="measure on Slurm instead: overhead per trial, submit to first trial")
    bench.add_argument("--overhead-only", action="store_true",
                       help="only the overhead per trial (no trials/hour, no TPE vs random)")
    for action, text in (("status", "progress and a table of the trials, best first"),
                         ("best", "best configuration and metrics")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
        p.add_argument("--root", help="searches folder (default $MAGVOX_SEARCHES or ./searches)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if action == "best":
            p.add_argument("--retrain", action="store_true",
                           help="where no test report of the best trial is stored (an "
                                "unfinished search): train it and score it on the test split")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", help="Ray cluster address (default: a private local cluster)")
    p.add_argument("--root", help="searches folder (default $MAGVOX_SEARCHES or ./searches)")


def run(args: argparse.Namespace) -> int:
    """Run the action; a bad space, name, dataset or cluster file is one line and exit 2."""
    import sys

    from search import actions

    try:
        return actions.ACTIONS[args.action](args)
    except actions.USER_ERRORS as exc:
        print(f"magvox search {args.action}: {exc}", file=sys.stderr)
        return 2
