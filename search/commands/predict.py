"""Apply a search's best network (or any magvox model file) to the composites of a dataset.

    magvox predict default-tpe --dataset DS.zarr               # the search's best model
    magvox predict default-tpe --dataset DS.zarr --out pred.csv
    magvox predict --model searches/mlartifacts/.../model.pt --dataset DS.zarr --json

One row per composite: the class and P(class 1) for a classification target, the value with its
unit for regression, and beside it the baselines' predictions (majority, composition,
integrals of the input density) fitted on the search's development composites (never its test
split). A model file without its search has no training set: no baselines. The input is prepared
as in training with the model's own input scale; nothing is refitted on DS. Composites of DS
without the model's input configuration are listed as skipped. A dataset whose grid or
configurations do not fit the model is refused in one line (exit 2, nothing written).
"""

from __future__ import annotations

import argparse

from search.commands import add_compute_arguments, add_root_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox predict``."""
    parser.add_argument("search", nargs="?", metavar="SEARCH",
                        help="a search name under --root: apply its best model")
    parser.add_argument("--model", metavar="PATH",
                        help="instead of SEARCH: a magvox model file (model.pt); no baselines")
    parser.add_argument("--dataset", required=True, metavar="DS",
                        help="Zarr dataset (magvox prep) or YAML list of stores to predict")
    add_root_argument(parser)
    parser.add_argument("--out", metavar="FILE.csv", help="also write the rows as CSV")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Predict; 0 on success, 2 (one line, nothing written) for unusable input."""
    import json
    import sys

    import torch

    from models.config import ConfigError
    from models.device import resolve_device
    from search.evaluation import predict

    if (args.search is None) == (args.model is None):
        print("magvox predict: give a SEARCH name or --model PATH (one of them)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        source = (predict.file_model(args.model) if args.model
                  else predict.search_model(args.search, args.root))
        device = resolve_device(args.device)
        table = predict.predict(source, args.dataset, device=device)
        if args.out:
            predict.write_csv(table, args.out)
    except (ConfigError, ValueError, KeyError, OSError) as exc:
        print(f"magvox predict: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(predict.to_json(table), indent=1) if args.json else predict.render(table))
    return 0
