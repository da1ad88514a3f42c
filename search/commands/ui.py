"""The MLflow UI on the searches' tracking store (one experiment per search, a run per trial).

``magvox ui NAME`` opens on that search's experiment; without NAME, all searches of the root.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="search to show (default: all)")
    parser.add_argument("--root", help="searches folder (default $MAGVOX_SEARCHES or ./searches)")
    parser.add_argument("--tracking-uri", help="MLflow store (default: the search's own)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)


def run(args: argparse.Namespace) -> int:
    from search.ui import serve

    return serve(args.name, root=args.root, tracking_uri=args.tracking_uri,
                 host=args.host, port=args.port)
