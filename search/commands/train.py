"""Train and evaluate one configuration on the shared dataset; print the metrics table.

    magvox train                                  # the default search's learner, data/cgt_te.zarr
    magvox train --set target=moment_class        # ... with that target's settings (30 epochs)
    magvox train --preset seed-base               # the original base model
    magvox train --preset periodic --set lr=0.003 --set epochs=10 --out runs/p

Without --preset the configuration is the one the default search tries first
(search/spaces/default.yaml: its fixed settings, its entry under ``targets`` for the target, its
first enqueued point: periodic-fast, 12 epochs, 3-fold CV for ground_state); ``--set`` wins over
it. With ``--preset NAME`` it is that preset and the TrialConfig defaults, then ``--set``.

Per-epoch progress goes to stderr; the table compares the CNN with the majority-class and
composition-only baselines on the same validation composites. ``--out DIR`` keeps an atomic
checkpoint per epoch there (a killed run resumes with the same command) and writes trial.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from data_prep import BUNDLED_DATASET
from search.commands import add_compute_arguments

if TYPE_CHECKING:
    from models.trial import TrialConfig


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """--preset and --set, shared with ``magvox estimate``."""
    parser.add_argument("--preset", default=None,
                        help="registered configuration (seed-base, seed-small, seed-largep, "
                             "periodic, periodic-fast); default: the default search's learner "
                             "(periodic-fast with the settings and first configuration of "
                             "search/spaces/default.yaml for the target)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a hyperparameter, e.g. lr=0.1, kernel_sizes=[20], "
                             "padding=circular (repeatable; values parsed as YAML)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox train``."""
    parser.add_argument("--dataset", default=str(BUNDLED_DATASET),
                        help="Zarr dataset or YAML list of stores (default: the bundled "
                             f"{BUNDLED_DATASET.name}, from any folder)")
    add_config_arguments(parser)
    parser.add_argument("--out", type=Path, help="folder for checkpoints, trial.json and "
                        "model.pt (the first fold's network)")
    add_compute_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def trial_config(args: argparse.Namespace) -> TrialConfig:
    """The TrialConfig of --preset (none: the default search's learner) and --set."""
    from models.trial import TrialConfig
    from search.tune.overrides import parse_sets
    from search.tune.sampling import default_learner

    sets = parse_sets(args.overrides)
    if args.preset is None:
        return TrialConfig.from_dict(default_learner(sets))
    return TrialConfig.from_dict({"preset": args.preset, **sets})


def _progress(record: dict[str, float]) -> None:
    names = ("train_loss", "val_loss", "val_balanced_accuracy", "val_mae")
    keys = [k for k in names if k in record]
    cells = "  ".join(f"{k} {record[k]:.4f}" for k in keys)
    print(f"epoch {int(record['epoch'])}  {cells}  ({record['seconds']:.1f} s)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run one trial; 0 on success, 2 for an impossible configuration or missing dataset."""
    import torch

    from models.config import ConfigError
    from models.train import run_trial

    torch.set_num_threads(args.threads)
    try:
        config = trial_config(args)
        result = run_trial(config, args.dataset, on_epoch=_progress, checkpoint_dir=args.out,
                           device=args.device)
    except (ConfigError, KeyError, ValueError, FileNotFoundError) as exc:
        print(f"magvox train: {exc}", file=sys.stderr)
        return 2
    if args.out:
        from models.saved import save_model

        (args.out / "trial.json").write_text(json.dumps(result.to_dict(), indent=1))
        save_model(result.state_dict, result.config, args.out / "model.pt", grid=result.grid,
                   target_scale=result.target_scale)  # the first fold's network (predict,
        # explain --model)
    if args.json:
        print(json.dumps({k: v for k, v in result.to_dict().items() if k != "filters"}))
    else:
        print(result.table())
    return 0
