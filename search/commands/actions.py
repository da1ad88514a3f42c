"""What each ``magvox search`` action does, as thin calls into the service (imported by the
command module only when it runs, so ``magvox --help`` imports nothing heavy)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from data_prep.ray_local import RayStartError
from search.tracking import report
from search.tune import service
from search.tune.space import SpaceError
from search.tune.state import SearchPaths, load_record, searches_root

# errors a user can act on: printed as one line by the command, exit 2
USER_ERRORS = (SpaceError, FileNotFoundError, FileExistsError, ValueError, KeyError,
               RayStartError)


def start(args: argparse.Namespace) -> int:
    from search.tune.overrides import parse_sets

    opts = service.StartOptions(
        space=args.space, sampler=args.sampler, trials=args.trials, name=args.name,
        address=args.address, tracking_uri=args.tracking_uri, dataset=args.dataset,
        root=args.root, seed=args.seed, overrides=parse_sets(args.overrides) or None,
        final_seeds=args.final_seeds, warm_start=args.warm_start, warm_k=args.warm_k,
    )
    if args.slurm:
        from search.commands import slurm_cli

        return slurm_cli.submit(args, opts)
    record = service.start(opts)
    return _summary(record.name, args.root)


def resume(args: argparse.Namespace) -> int:
    if getattr(args, "slurm", None):
        from search.commands import slurm_cli

        return slurm_cli.resubmit(args)
    record = service.resume(args.name, root=args.root, address=args.address)
    return _summary(record.name, args.root)


def extend(args: argparse.Namespace) -> int:
    if args.slurm:
        from search.commands import slurm_cli

        return slurm_cli.resubmit(args, extend=args.trials)
    record = service.extend(args.name, args.trials, root=args.root, address=args.address)
    return _summary(record.name, args.root)


def _record(name: str, root: str | None):
    return load_record(SearchPaths(searches_root(root), name))


def _summary(name: str, root: str | None) -> int:
    record = _record(name, root)
    info = report.status(record)
    counts = ", ".join(f"{n} {s}" for s, n in info["trials"].items() if n)
    print(f"search {name}: {info['status']}; trials: {counts or 'none'}")
    if info["best"]:
        best, (metric, _) = info["best"], report.metric_name(record)
        spread = best.get(f"{metric}_std")
        print(f"best trial {best['trial']}: {metric} {best[metric]:.3f}"
              + (f" +- {spread:.3f}" if spread is not None else "")
              + f" (cross-validation; all trials: magvox search status {name})")
    where = f" --root {root}" if root else ""
    if info["status"] == "interrupted":
        print(f"continue: magvox search resume {name}{where}")
    test = report.load_test(record)
    if test is not None:
        print(test["text"])
    print(f"browse: magvox ui {name}{where}")
    return 0


def status(args: argparse.Namespace) -> int:
    from search.commands import slurm_cli
    from search.tracking import trials_table

    job = slurm_cli.job_info(args.name, args.root)  # {} unless submitted with --slurm
    if job.get("status") == "submitted":
        return slurm_cli.print_submitted(job, args.json)
    record = _record(args.name, args.root)
    table = trials_table.rows(record)
    info = {**report.status(record), **job, "trials_table": table}
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"search {info['name']} ({info['sampler']}): {info['status']}")
    done = sum(info["trials"][s] for s in ("completed", "pruned", "failed"))
    print(f"trials: {done}/{info['trials_planned']} finished  " + "  ".join(
        f"{s}={n}" for s, n in info["trials"].items()))
    if table:
        print(trials_table.render(record, table))
    else:
        print("no trial yet")
    if job:
        print(slurm_cli.job_line(job))
    return 0


def best(args: argparse.Namespace) -> int:
    record = _record(args.name, args.root)
    run = report.best_run(record)
    if run is None:
        print(f"search {args.name}: no completed trial yet")
        return 1
    config = report.best_config(record, run)
    path = Path(searches_root(args.root)) / args.name / "best.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = report.train_command(report.trial_fields(record, run))
    test = report.load_test(record)
    if test is not None and test["report"].get("trial_run_id") != run.info.run_id:
        test = None  # the stored report is of another trial (a round still running)
    if test is None and args.retrain:  # never without asking: a full training on this machine
        print(f"search {args.name}: --retrain: training trial "
              f"{run.data.tags.get('magvox.trial_id')}'s configuration on the development "
              "composites and scoring it once on the test split", file=sys.stderr, flush=True)
        test = report.test_report(record, run)
    out = {"trial": run.data.tags.get("magvox.trial_id"), "run_id": run.info.run_id,
           "metrics": dict(run.data.metrics), "config": config, "config_file": str(path),
           "train_command": command, "test": test["report"] if test else None,
           "test_split_scorings": report.test_looks(record.dataset)}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(yaml.safe_dump({k: v for k, v in out.items() if k not in ("test", "test_split_scorings")},
                         sort_keys=False))
    print(f"re-run: {command}")
    if test is None:
        where = f" --root {args.root}" if args.root else ""
        print(f"no test report of this trial is stored (the search has not finished: "
              f"{record.status}); `magvox search best {args.name}{where} --retrain` trains it on "
              "the development composites and scores it on the test split")
    else:
        print(test["text"])
    from search.tracking import importance

    paths = SearchPaths(searches_root(args.root), args.name)
    print(importance.text(importance.analyse(record, paths, log=False)))
    for store, n in report.test_looks(record.dataset).items():
        print(f"the test split of {store} has been scored {n} time{'s' * (n != 1)} (its "
              f"holdout.json lists "
              f"when and by which command); it is never used to choose anything")
    return 0


def assess(args: argparse.Namespace) -> int:
    from search.evaluation.assess import AssessOptions
    from search.evaluation.assess import assess as run_assessment
    from search.tune.overrides import parse_sets

    opts = AssessOptions(
        name=args.name, space=args.space, sampler=args.sampler, trials=args.trials,
        dataset=args.dataset, root=args.root, seed=args.seed,
        overrides=parse_sets(args.overrides) or None, outer_folds=args.outer_folds,
        final_seeds=args.final_seeds, address=args.address)
    _, pooled = run_assessment(opts)
    if pooled is None:
        where = f" --root {args.root}" if args.root else ""
        print(f"assessment {args.name}: interrupted; continue: magvox search assess "
              f"{args.name}{where} (the same options)")
        return 1
    print((searches_root(args.root) / args.name / "assessment.txt").read_text(), end="")
    return 0


def compare(args: argparse.Namespace) -> int:
    from data_prep.io.fileio import write_text_atomic
    from search.evaluation.compare import compare_assessments

    result = compare_assessments(args.names, searches_root(args.root))
    print(result.text())
    if args.out:
        import json

        write_text_atomic(Path(args.out), json.dumps(result.to_dict(), indent=1))
        print(f"written: {args.out}")
    return 0


ACTIONS = {"assess": assess, "compare": compare, "start": start, "resume": resume,
           "extend": extend, "status": status, "best": best}
