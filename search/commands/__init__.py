"""One module per CLI subcommand, each with ``add_arguments(parser)`` and ``run(args) -> int``.

The arguments several commands share are added here, their defaults read from the library.
"""

from __future__ import annotations

import argparse

from models import CPU_THREADS
from search.tune.state import SEARCHES_DIR, SEARCHES_ENV


def add_root_argument(parser: argparse.ArgumentParser) -> None:
    """``--root``: the folder holding the searches (``search.tune.state.searches_root``)."""
    parser.add_argument("--root", help=f"searches folder (default ${SEARCHES_ENV} or "
                        f"./{SEARCHES_DIR})")


def add_compute_arguments(parser: argparse.ArgumentParser, *, device: bool = True) -> None:
    """``--threads`` (torch CPU threads) and, with ``device``, ``--device``."""
    parser.add_argument("--threads", type=int, default=CPU_THREADS,
                        help="torch CPU threads (default %(default)s)")
    if device:
        parser.add_argument("--device", default="auto",
                            help="auto (a visible CUDA GPU, else the CPU), cpu, cuda or cuda:N")
