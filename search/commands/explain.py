"""Where a trained network looks in the spin density: attribution maps and per-site tables.

    magvox explain default-tpe --dataset data/cgt_te.zarr                  # its test composites
    magvox explain default-tpe --dataset data/cgt_te.zarr --composites Cr2Ge2Te6 --out ex
    magvox explain --model runs/p/model.pt --dataset DS.zarr --composites CrVGe2Te6
    magvox explain default-tpe --run RUN_ID --dataset DS.zarr      # one trial of the search

Integrated Gradients against the zero-density baseline (the non-magnetic crystal), the
attribution summed over each atom's region, occlusion of whole sites, and the same network with
re-initialised weights beside it (search.evaluation.explain has the files and their units). Without
--composites the dataset's held-out test composites are explained. A model and a dataset that do
not fit, a composite not in the dataset or a file that is not a magvox model: one line, exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from search.commands import add_compute_arguments, add_root_argument
from search.tune.defaults import EXPLAIN_STEPS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox explain``."""
    parser.add_argument("search", nargs="?", metavar="SEARCH",
                        help="a search name under --root: explain its best model")
    parser.add_argument("--model", metavar="PATH",
                        help="instead of SEARCH: a magvox model file (model.pt) or a "
                             "`magvox train --out` folder")
    parser.add_argument("--run", metavar="RUN_ID",
                        help="with SEARCH: this MLflow trial run's model instead of the best")
    parser.add_argument("--dataset", required=True, metavar="DS",
                        help="Zarr dataset or YAML list of stores holding the composites")
    parser.add_argument("--composites", nargs="+", metavar="NAME",
                        help="composites to explain (default: the dataset's test composites)")
    parser.add_argument("--out", type=Path, default=Path("explain"),
                        help="folder for the files (default ./explain)")
    parser.add_argument("--steps", type=int, default=EXPLAIN_STEPS,
                        help="Integrated Gradients path points (default %(default)s)")
    add_root_argument(parser)
    add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Explain; 0 on success, 2 (one line) for unusable input."""
    import sys

    import torch

    from models.config import ConfigError
    from models.device import resolve_device
    from search.evaluation import predict
    from search.evaluation.explain import explain

    if (args.search is None) == (args.model is None):
        print("magvox explain: give a SEARCH name or --model PATH (one of them)",
              file=sys.stderr)
        return 2
    if args.run and not args.search:
        print("magvox explain: --run needs the SEARCH it belongs to", file=sys.stderr)
        return 2
    if args.steps < 2:
        print(f"magvox explain: --steps {args.steps}: at least 2", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        if args.model:
            path = Path(args.model)
            source = predict.file_model(path / "model.pt" if path.is_dir() else path)
        elif args.run:
            source = predict.run_model(args.search, args.run, args.root)
        else:
            source = predict.search_model(args.search, args.root)
        result = explain(source, args.dataset, args.composites, args.out, steps=args.steps,
                         device=resolve_device(args.device))
    except (ConfigError, ValueError, KeyError, OSError) as exc:
        print(f"magvox explain: {exc}", file=sys.stderr)
        return 2
    print(result.text())
    print(f"files: {args.out}/<composite>/ (attribution.CHGCAR, attribution.cube, "
          f"density.CHGCAR, sites.csv, planes.png), {args.out}/explain.json")
    return 0
