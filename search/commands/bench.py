"""Measure the base model on this machine and append the figures to BENCHMARKS.md.

One run measures: the default search's learner (its stride-4 first conv direct vs FFT, with
FLOPs and bytes moved, and a whole default trial with backend auto vs fft; ``--learner-only``
for that alone); seed-base's first conv layer forward+backward per sample, FFT vs
torch.nn.Conv3d (and the ratio); one seed-base epoch over 62 samples (43 train / 19 validation)
with the FFT backend; the peak resident memory of that trial at batch 20, beside the estimate.
Without --dataset (or when it is missing) the epoch uses synthetic densities of the real shape.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_prep import BUNDLED_DATASET
from models import BENCHMARKS
from search.commands import add_compute_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox bench``."""
    parser.add_argument("--dataset", default=str(BUNDLED_DATASET),
                        help="dataset for the epoch (default: the bundled one; synthetic "
                             "densities of the same shape if absent)")
    parser.add_argument("--out", type=Path, default=Path(BENCHMARKS),
                        help="file to append to (default %(default)s)")
    add_compute_arguments(parser, device=False)
    parser.add_argument("--presets", action="store_true",
                        help="also check the memory estimate of every preset (slower)")
    parser.add_argument("--learner-only", action="store_true",
                        help="only the default learner: its strided first conv direct vs FFT "
                             "and a whole default trial with backend auto vs fft")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print and append the section."""
    from models.bench import run_bench
    from search.tune.sampling import default_learner

    dataset = args.dataset if args.dataset and Path(args.dataset).exists() else None
    print(run_bench(dataset, args.out, args.threads, presets=args.presets,
                    learner=default_learner({}), learner_only=args.learner_only))
    return 0
