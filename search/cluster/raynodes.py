"""Helpers the batch script runs inside the job (``python3 -m search.cluster.raynodes``), not a user
command:

    python3 -m search.cluster.raynodes HEAD_IP:PORT N [--timeout S] [--watch PID ...]
                                                   wait until Ray has N live nodes
    python3 -m search.cluster.raynodes --finished PATH/search.json    exit 0 iff the search finished

The wait polls the head's GCS (with the job's token: ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN_PATH``)
every 0.5 s; on timeout it exits 1 with one line saying how many nodes had joined, and which.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path


def alive_nodes(address: str) -> list[str] | None:
    """The live Ray nodes as ``ip:node-manager-port CPU=n GPU=n``, or None if the head does not
    answer yet. Raises ``ray.exceptions.AuthenticationError`` for a wrong or missing token."""
    from ray._raylet import GcsClient  # no driver: reading the node table is enough
    from ray.core.generated.gcs_pb2 import GcsNodeInfo
    from ray.exceptions import AuthenticationError

    host, _, port = address.rpartition(":")
    try:  # a plain connect first: GcsClient itself retries a closed port for 30 s
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return None
    try:
        info = GcsClient(address=address).get_all_node_info(timeout=5)
    except AuthenticationError:
        raise
    except Exception:  # GCS not up yet (connection refused, timeout)
        return None
    return sorted(f"{n.node_manager_address}:{n.node_manager_port} "
                  f"CPU={n.resources_total.get('CPU', 0):g} GPU={n.resources_total.get('GPU', 0):g}"
                  for n in info.values() if n.state == GcsNodeInfo.GcsNodeState.ALIVE)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_nodes(address: str, count: int, timeout_s: float, watch: list[int] = (),
                   poll_s: float = 0.5) -> list[str]:
    """Block until ``count`` Ray nodes are alive at ``address``. TimeoutError names what joined;
    RuntimeError at once if one of the ``watch`` processes (the ``srun ray start`` steps) ended."""
    end = time.monotonic() + timeout_s
    nodes: list[str] | None = None
    while time.monotonic() < end:
        nodes = alive_nodes(address)
        if nodes is not None and len(nodes) >= count:
            return nodes
        dead = [pid for pid in watch if not running(pid)]
        if dead:
            raise RuntimeError(f"Ray at {address}: the ray start step (pid {dead[0]}) ended "
                               "before its node joined; its error is above in this log")
        time.sleep(poll_s)
    seen = "the head never answered" if nodes is None else f"{len(nodes)} joined: {nodes}"
    raise TimeoutError(f"Ray at {address}: {count} nodes expected within {timeout_s:.0f} s "
                       f"(ray.nodes_timeout_s), {seen}")


def search_finished(record: Path) -> bool:
    """Whether the driver last wrote status ``finished`` to this search.json."""
    try:
        return json.loads(record.read_text()).get("status") == "finished"
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m search.cluster.raynodes")
    parser.add_argument("address", nargs="?")
    parser.add_argument("nodes", nargs="?", type=int)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--watch", type=int, nargs="*", default=[],
                        help="PIDs of the srun ray start steps: fail at once if one ends")
    parser.add_argument("--finished", metavar="SEARCH_JSON")
    args = parser.parse_args(argv)
    if args.finished:
        return 0 if search_finished(Path(args.finished)) else 1
    if not args.address or not args.nodes:
        parser.error("give HEAD_IP:PORT and the number of nodes")
    start = time.monotonic()
    try:
        nodes = wait_for_nodes(args.address, args.nodes, args.timeout, args.watch)
    except Exception as exc:  # timeout or authentication: one line in the job log
        print(f"magvox: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"magvox: {len(nodes)} Ray nodes at {args.address} after "
          f"{time.monotonic() - start:.1f} s: {nodes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
