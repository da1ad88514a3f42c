"""Measure magvox on this machine; each measurement becomes a record, and BENCHMARKS.md is
rendered from the records.

    magvox bench learner            # the default learner: strided conv direct vs FFT, its trial
    magvox bench base               # the original base model: FFT vs Conv3d, epochs, memory
    magvox bench service            # the search service's cost per trial, trials/hour, TPE/random
    magvox bench slurm cluster.yaml # the same on a Slurm cluster
    magvox bench learning           # the default search's best CNN on the test split
    magvox bench page [--check]     # BENCHMARKS.md from data/benchmarks/ and data/assessments/

A record is ``data/benchmarks/<measure>/<date>-<commit>.json`` (date, commit, machine, load at
start and end, the command, the figures); after a measurement the page is rendered again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data_prep import BUNDLED_DATASET, TARGET_COLUMNS
from search.commands import add_compute_arguments
from search.tune.defaults import BENCH_SEEDS, BENCH_TARGET, BENCH_TRIALS

RECORDS = "data/benchmarks"
PAGE = "BENCHMARKS.md"


def _dataset(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--dataset", default=str(BUNDLED_DATASET),
                   help=f"dataset {what} (default: the bundled one)")


def _network(p: argparse.ArgumentParser, dataset_help: str, flag: str, flag_help: str) -> None:
    """The options of a network timing: its dataset, the torch threads and one switch."""
    p.add_argument("--dataset", default=str(BUNDLED_DATASET), help=dataset_help)
    add_compute_arguments(p, device=False)
    p.add_argument(flag, action="store_true", help=flag_help)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands of ``magvox bench``, each with ``--records``, ``--page`` and ``--no-page``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the command list
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--records", default=RECORDS,
                        help="folder of the records and page.yaml (default %(default)s)")
    common.add_argument("--page", default=PAGE, help="the page (default %(default)s)")
    common.add_argument("--no-page", action="store_true",
                        help="write the record only; do not render the page again")
    sub = parser.add_subparsers(dest="measure", metavar="MEASURE", required=True)
    _network(sub.add_parser(
        "learner", parents=[common], help="the default learner: its strided first conv direct vs "
        "FFT (FLOPs, bytes), its trial in memory and `magvox train` as a process"),
        "the default trial's dataset (default: the bundled one)",
        "--no-process", "leave out `magvox train --preset periodic-fast` as a process (~2 min)")
    _network(sub.add_parser(
        "base", parents=[common], help="the original base model: its first conv FFT vs "
        "torch.nn.Conv3d, two epochs over 62 composites, peak memory vs estimate"),
        "densities for the epochs (default: the bundled set; synthetic densities of the same "
        "shape if absent)", "--presets", "also check the memory estimate of every preset")
    p = sub.add_parser(
        "service", parents=[common], help="the search service's cost per trial, trials per hour, "
                       "TPE vs random")
    _dataset(p, "to search on")
    p.add_argument("--trials", type=int, default=BENCH_TRIALS,
                   help="trials per search (default %(default)s)")
    p.add_argument("--seeds", type=int, default=BENCH_SEEDS,
                   help="seeds for TPE vs random (default %(default)s)")
    p.add_argument("--target", default=BENCH_TARGET,
                   help="target of the TPE/random comparison (both classes must occur)")
    p.add_argument("--overhead-only", action="store_true",
                   help="only the cost per trial (no trials/hour, no TPE vs random)")
    p = sub.add_parser(
        "slurm", parents=[common], help="the service's cost per trial on a Slurm cluster and the "
                       "time from sbatch to the first trial")
    p.add_argument("cluster", metavar="CLUSTER_YAML", help="the cluster file (cluster.yaml)")
    _dataset(p, "to search on")
    p = sub.add_parser(
        "learning", parents=[common], help="the default search's best CNN per target on the "
                       "held-out test split (superseded by `magvox search assess`)")
    _dataset(p, "to search on")
    p.add_argument("--trials", type=int, help="trials per search (default: the space's)")
    p.add_argument("--targets", nargs="+", metavar="TARGET", choices=list(TARGET_COLUMNS),
                   help="these targets only (default: every non-coupling target)")
    p = sub.add_parser(
        "page", parents=[common], help="render BENCHMARKS.md from the records")
    p.add_argument("--check", action="store_true",
                   help="only say whether the page is current (exit 1 and the diff if not)")


def _measure(args: argparse.Namespace) -> dict:
    """Run the measurement ``args.measure``; -> its figures."""
    dataset = str(Path(args.dataset).resolve()) if getattr(args, "dataset", None) else None
    if args.measure == "learner":
        from models.bench import measure_learner
        from search.tune.sampling import default_learner

        return measure_learner(default_learner({}), dataset if Path(dataset).exists() else None,
                               args.threads, process=not args.no_process)
    if args.measure == "base":
        from models.bench import measure_base

        return measure_base(dataset if Path(dataset).exists() else None, args.threads,
                            presets=args.presets)
    if args.measure == "service":
        from search.bench.service import measure_service

        return measure_service(dataset, args.trials, args.seeds, args.target,
                               overhead_only=args.overhead_only)
    if args.measure == "slurm":
        from search.bench.slurm import measure_slurm

        return measure_slurm(args.cluster, dataset)
    from search.bench.learning import TARGETS, measure_learning

    return measure_learning(dataset, args.trials, tuple(args.targets or TARGETS))


def run(args: argparse.Namespace) -> int:
    """Measure and record (then render the page), or render / check the page."""
    from search.bench import page

    records = Path(args.records)
    if args.measure == "page":
        if args.check:
            diff = page.stale(args.page, records)
            if diff:
                print(diff, end="")
                print(f"{args.page} is not what the records give: run `magvox bench page`",
                      file=sys.stderr)
                return 1
            print(f"{args.page} is current")
            return 0
        print(f"wrote {page.write(args.page, records)}")
        return 0
    from search.bench.records import write_record
    from search.bench.tables import RENDERERS
    from search.tracking.provenance import start

    started = start()
    path = write_record(args.measure, _measure(args), started, records)
    print(f"record: {path}")
    record = json.loads(path.read_text())
    print("\n".join(RENDERERS[args.measure]([record])))
    if not args.no_page and (records / "page.yaml").is_file():
        print(f"wrote {page.write(args.page, records)}")
    return 0
