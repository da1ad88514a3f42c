"""Find DFT runs under SRC... and write (or extend) the shared Zarr dataset.

Sources: VASP run folders (CHGCAR + OUTCAR/OSZICAR/vasprun.xml), magvox run folders
(magvox_run.json) and loose volumetric files. Composite/configuration come from run metadata or
the path (default ``<composite>/<configuration>/CHGCAR``; see --pattern). Runs on a private local
Ray cluster (--address for an existing one). Idempotent and safe to kill; re-run to complete.
Exit code 3 when any input was rejected (listed in OUT/rejected.csv); 2, with nothing written,
when a source does not exist or holds no run.
"""

from __future__ import annotations

import argparse
import sys

from data_prep import DEFAULT_MAGNETIZATION, DEFAULT_PATTERN, MAGNETIZATION_CHOICES, TRAIN_GRID


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox prep``."""
    parser.add_argument("sources", nargs="+", metavar="SRC", help="files or folders to search")
    parser.add_argument("--out", required=True, help="the dataset, e.g. DS.zarr (created if new)")
    parser.add_argument("--pattern", default=DEFAULT_PATTERN,
                        help="path layout with {composite}, {configuration}, {file} and * "
                             "(default: %(default)s)")
    parser.add_argument("--magnetization", default=DEFAULT_MAGNETIZATION,
                        choices=MAGNETIZATION_CHOICES,
                        help="spin density of non-collinear files (default m_%(default)s)")
    parser.add_argument("--train-grid", type=int, nargs=3, default=TRAIN_GRID,
                        metavar=("NA", "NB", "NC"),
                        help=f"training grid per cell ({' '.join(map(str, TRAIN_GRID))})")
    parser.add_argument("--total", action="store_true", help="also store the total density")
    parser.add_argument("--native-only", action="store_true",
                        help="store native grids only; the training grid is computed on read "
                             "(compact, for datasets kept in git)")
    parser.add_argument("--workers", type=int, default=None,
                        help="Ray worker CPUs (default: all cores; 0 = no Ray, in this process)")
    parser.add_argument("--address", default=None, help="existing Ray cluster (e.g. auto)")
    parser.add_argument("--quiet", action="store_true", help="no per-file progress lines")


def run(args: argparse.Namespace) -> int:
    """Prepare the dataset; print the summary; 3 when anything was rejected, 2 on bad input."""
    from data_prep.dataset.prep import prepare_dataset

    try:
        report = prepare_dataset(
            args.sources, args.out, pattern=args.pattern, magnetization=args.magnetization,
            train_grid=tuple(args.train_grid), store_total=args.total,
            store_train=not args.native_only, workers=args.workers,
            address=args.address, progress=not args.quiet)
    except (ValueError, OSError) as exc:
        print(f"magvox prep: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return report.exit_code
