"""Parameters, memory and FLOPs of a configuration, before running it.

    magvox estimate                               # the default search's learner, 60x60x120 grid
    magvox estimate --preset seed-base            # the original base model (40^3 kernels)
    magvox estimate --preset seed-small --set batch_size=8 --memory-mb 4096

Per conv layer: output shape, parameters, forward GFLOP per sample for the direct and FFT
backends and the backend used. Memory (MB) for training: data (inputs + cached spectra), weights
and optimizer state, activations and workspace per batch (forward + backward), plus the runtime.
Says whether it fits in --memory-mb (default: this machine's available memory, or the GPU's with
--gpu). Exit status 3 when it does not fit, 2 for an impossible configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from data_prep import BUNDLED_DATASET, TRAIN_GRID
from search.commands.train import add_config_arguments, trial_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``magvox estimate``."""
    add_config_arguments(parser)
    parser.add_argument("--grid", type=int, nargs=3, default=TRAIN_GRID,
                        metavar=("NX", "NY", "NZ"),
                        help=f"untiled input grid (default {' '.join(map(str, TRAIN_GRID))})")
    parser.add_argument("--samples", type=int,
                        help="samples held in memory (default: the bundled dataset's samples "
                             "of the configuration's DFT configuration)")
    parser.add_argument("--memory-mb", type=float, help="memory available, MB")
    parser.add_argument("--gpu", action="store_true", help="compare with the free GPU memory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def available_mb(gpu: bool) -> float | None:
    """Free GPU memory (with --gpu, if CUDA is there) or MemAvailable of /proc/meminfo, MB."""
    if gpu:
        import torch

        return torch.cuda.mem_get_info()[0] / 2**20 if torch.cuda.is_available() else None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def bundled_samples(configuration: str) -> int:
    """Composites of the bundled dataset with a density of every configuration in
    ``configuration`` (``FM`` or ``FM+AFM-Neel``): the samples a trial holds in memory."""
    from data_prep.dataset.store import open_dataset

    index = open_dataset(BUNDLED_DATASET).index
    per = [set(index.loc[index["configuration"] == k, "composite"])
           for k in configuration.split("+")]
    return len(set.intersection(*per))


def run(args: argparse.Namespace) -> int:
    """Print the estimate; 0 if it fits (or no limit is known), 3 if not, 2 if impossible."""
    from models.config import ConfigError
    from models.estimate import estimate

    limit = args.memory_mb if args.memory_mb is not None else available_mb(args.gpu)
    try:
        config = trial_config(args)
        samples = args.samples or bundled_samples(config.configuration)
        est = estimate(config, tuple(args.grid), n_samples=samples,
                       available_mb=limit)
    except (ConfigError, KeyError, ValueError) as exc:
        print(f"magvox estimate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(est), "fits": est.fits}))
    else:
        print(est.table())
    return 3 if est.fits is False else 0
