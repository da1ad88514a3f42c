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

from search.commands import add_root_argument
from search.tune.defaults import (
    ASSESS_FINAL_SEEDS,
    FINAL_SEEDS,
    OUTER_FOLDS,
    WARM_K,
)
from search.tune.sampling import SAMPLERS
from search.tune.space import bundled_spaces
from search.tune.state import MLFLOW_DB, SEARCHES_DIR

SPACE_NAMES = ", ".join(bundled_spaces())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="start a new search")
    start.add_argument("--space", help=f"space YAML file or bundled name ({SPACE_NAMES})")
    start.add_argument("--sampler", choices=SAMPLERS, help="Optuna sampler")
    start.add_argument("--trials", type=int, help="number of (feasible) trials")
    start.add_argument("--name", help="search name (default: <space>-<sampler>)")
    start.add_argument("--seed", type=int, help="sampler seed")
    start.add_argument("--dataset", help="Zarr dataset or a YAML list of stores (default: the "
                       "space's, else the bundled one)")
    start.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="fix a trial field for every trial, e.g. "
                       "target=moment (overrides the space's fixed value or sampled param)")
    start.add_argument("--final-seeds", type=int, default=FINAL_SEEDS,
                       help="networks (seeds) the best configuration is trained with for the "
                            "end-of-search test report (default %(default)s; 5 gives mean +- std)")
    start.add_argument("--warm-start", metavar="SEARCH",
                       help="try the best trials of this earlier search first (under --root; a "
                            "field this space does not know is refused by name)")
    start.add_argument("--warm-k", type=int, default=WARM_K,
                       help="with --warm-start: how many of its best trials (default %(default)s)")
    _common(start)
    start.add_argument("--tracking-uri", help="MLflow tracking URI (default: "
                       f"{SEARCHES_DIR}/{MLFLOW_DB})")
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
                            "labelled composite: the figure of record (run again, with the same "
                            "options or none, to resume)")
    assess.add_argument("name", help="name of the assessment (its folder under --root)")
    assess.add_argument("--space", help=f"space YAML file or bundled name ({SPACE_NAMES})")
    assess.add_argument("--sampler", choices=SAMPLERS, help="Optuna sampler")
    assess.add_argument("--trials", type=int, help="trials of each outer fold's search")
    assess.add_argument("--outer-folds", type=int,
                        help=f"outer folds by composite, stratified by label and X (default "
                             f"{OUTER_FOLDS})")
    assess.add_argument("--seed", type=int, help="seed of the outer folds and the sampler")
    assess.add_argument("--final-seeds", type=int,
                        help=f"networks (seeds) the selected configuration of each outer fold is "
                             f"trained with and scored by (default {ASSESS_FINAL_SEEDS}: mean +- "
                             f"std)")
    assess.add_argument("--dataset", help="Zarr dataset or a YAML list of stores (default: the "
                        "space's, else the bundled one)")
    assess.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="fix a trial field, e.g. target=moment")
    _common(assess)
    comp = sub.add_parser("compare", help="two or more assessments on the same outer folds: "
                          "the first one's paired difference against each, overall and per X")
    comp.add_argument("names", nargs="+", metavar="NAME",
                      help="assessments (names under --root or data/assessments, or folders)")
    add_root_argument(comp)
    comp.add_argument("--out", help="also write the comparison as JSON to this file")
    for action, text in (("status", "progress and a table of the trials, best first"),
                         ("best", "best configuration and metrics")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
        add_root_argument(p)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if action == "best":
            p.add_argument("--retrain", action="store_true",
                           help="where no test report of the best trial is stored (an "
                                "unfinished search): train it and score it on the test split")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", help="Ray cluster address (default: a private local cluster)")
    add_root_argument(p)


def run(args: argparse.Namespace) -> int:
    """Run the action; a bad space, name, dataset or cluster file is one line and exit 2."""
    import sys

    from search.commands import actions

    try:
        return actions.ACTIONS[args.action](args)
    except actions.USER_ERRORS as exc:
        print(f"magvox search {args.action}: {exc}", file=sys.stderr)
        return 2
