"""The MLflow UI on the searches' tracking store (one experiment per search, a run per trial).

``magvox ui NAME`` opens on that search's experiment; without NAME, all searches of the root.
"""

from __future__ import annotations

import argparse

from search.commands import add_root_argument
from search.tracking.ui import HOST, PORT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="search to show (default: all)")
    add_root_argument(parser)
    parser.add_argument("--tracking-uri", help="MLflow store (default: the search's own)")
    parser.add_argument("--host", default=HOST, help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=PORT, help="port (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    from search.tracking.ui import serve

    return serve(args.name, root=args.root, tracking_uri=args.tracking_uri,
                 host=args.host, port=args.port)
