"""``cluster.yaml`` -> :class:`ClusterSpec`, checked field by field before anything is submitted.

The file has three sections: ``slurm`` (the allocation), ``ray`` (ports and Ray's session folder
on each node) and ``env`` (shell set-up, the shared folder). Every error names the file and the
``section.key`` at fault; ``search.cluster.slurm`` adds the checks that need Slurm itself
(partition,
resources the partition has). The batch script is written by ``search.cluster.batch``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml


class ClusterError(ValueError):
    """A cluster.yaml (or a Slurm request made from it) that cannot work; the message names the
    file and key."""


@dataclass(frozen=True)
class ClusterSpec:
    """What ``cluster.yaml`` describes (the file at the repository root documents each field).

    Attributes:
        partition, nodes, gpus_per_node, cpus_per_node, time, account, job_name, requeue,
        sbatch_extra: the Slurm allocation (``time`` as [D-]HH:MM:SS or minutes).
        signal_s: seconds before the time limit at which the job is told to stop (SIGUSR1):
            the driver saves the search and the job requeues itself.
        port: Ray head GCS port; dashboard_port, ray_client_server_port (0 = no Ray Client
            server; it needs ``ray[client]``): the head's other ports.
        object_manager_port ... max_worker_port: Ray's per-node ports (0 = Ray picks one).
        node_port_offset: node i (0 = head) uses each per-node port + i * offset, so several
            Ray nodes can share a host; 0 = the same ports on every node.
        include_dashboard: start Ray's dashboard on the head (default False: it needs
            ``ray[default]``, which ``ray[tune]`` does not install; see check_dashboard).
        nodes_timeout_s: how long the job waits for every Ray node to join before failing.
        temp_dir: node-local Ray session folder (short: Ray puts sockets in it).
        head_interface: network interface whose IPv4 address the head announces (e.g. ``ib0``
            for InfiniBand); empty = the first address of ``hostname --ip-address``. Workers
            reach the head there and pick their own address on the same network.
        setup: shell lines run first on every node (modules, virtual environment).
        workdir: shared folder the driver runs in (holds searches/).
    """

    partition: str = "gpu"
    nodes: int = 1
    gpus_per_node: int = 1
    cpus_per_node: int = 8
    time: str = "04:00:00"
    account: str | None = None
    job_name: str = "magvox-search"
    requeue: bool = True
    signal_s: int = 300
    sbatch_extra: tuple[str, ...] = ()
    port: int = 6379
    ray_client_server_port: int = 0
    dashboard_port: int = 8265
    include_dashboard: bool = False
    object_manager_port: int = 8076
    node_manager_port: int = 8077
    metrics_export_port: int = 0
    dashboard_agent_listen_port: int = 52365
    dashboard_agent_grpc_port: int = 0
    runtime_env_agent_port: int = 0
    min_worker_port: int = 10002
    max_worker_port: int = 19999
    node_port_offset: int = 0
    nodes_timeout_s: int = 300
    temp_dir: str = "/tmp/ray-magvox"
    head_interface: str = ""
    setup: str = ""
    workdir: str = "."

    @property
    def time_s(self) -> int:
        """The time limit in seconds."""
        return parse_time(self.time)


SECTIONS = {
    "slurm": ("partition", "nodes", "gpus_per_node", "cpus_per_node", "time", "account",
              "job_name", "requeue", "signal_s", "sbatch_extra"),
    "ray": ("port", "ray_client_server_port", "dashboard_port", "include_dashboard",
            "object_manager_port", "node_manager_port", "metrics_export_port",
            "dashboard_agent_listen_port", "dashboard_agent_grpc_port", "runtime_env_agent_port",
            "min_worker_port", "max_worker_port", "node_port_offset", "nodes_timeout_s",
            "temp_dir", "head_interface"),
    "env": ("setup", "workdir"),
}
NODE_PORTS = ("object_manager_port", "node_manager_port", "metrics_export_port",
              "dashboard_agent_listen_port", "dashboard_agent_grpc_port", "runtime_env_agent_port")
HEAD_PORTS = ("port", "ray_client_server_port", "dashboard_port")
# what ray.dashboard.optional_deps imported in Ray 2.60, if that module cannot be read
DASHBOARD_MODULES = ("aiohttp", "aiohttp_cors", "grpc", "opencensus", "opentelemetry",
                     "prometheus_client", "pydantic")


def parse_time(text: str) -> int:
    """Slurm wall time -> seconds: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS
    (ValueError otherwise)."""
    text = str(text).strip()
    days, _, rest = text.rpartition("-")
    parts = rest.split(":")
    if not (days.isdigit() or not days) or not all(p.isdigit() for p in parts) or len(parts) > 3:
        raise ValueError(f"{text!r} is not a Slurm time ([D-]HH:MM:SS or minutes)")
    values = [int(p) for p in parts]
    if days:  # D-HH[:MM[:SS]]
        h, m, s = (*values, 0, 0)[:3]
    elif len(values) == 3:
        h, m, s = values
    else:  # MM or MM:SS
        h, m, s = 0, values[0], (values[1] if len(values) == 2 else 0)
    return ((int(days or 0) * 24 + h) * 60 + m) * 60 + s


def load_cluster(path: str | Path) -> ClusterSpec:
    """Read and check ``cluster.yaml``; a :class:`ClusterError` names the file and key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ClusterError(f"{path}: expected sections {sorted(SECTIONS)}, "
                           f"got {type(raw).__name__}")
    flat = _flatten(path, raw)
    if "sbatch_extra" in flat:
        flat["sbatch_extra"] = tuple(flat["sbatch_extra"] or ())
    spec = ClusterSpec(**flat)
    check_spec(spec, path)
    return spec


def _flatten(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ClusterError(f"{path}: unknown section {unknown[0]!r}; known: {sorted(SECTIONS)}")
    types = {f.name: type(f.default) for f in fields(ClusterSpec)}
    flat: dict[str, Any] = {}
    for section, keys in SECTIONS.items():
        values = raw.get(section) or {}
        if not isinstance(values, dict):
            raise ClusterError(f"{path}: {section}: expected a mapping of keys")
        for key, value in values.items():
            if key not in keys:
                home = next((s for s, k in SECTIONS.items() if key in k), None)
                hint = f" (it belongs in section {home})" if home else f"; known: {list(keys)}"
                raise ClusterError(f"{path}: {section}.{key}: unknown key{hint}")
            flat[key] = _typed(path, f"{section}.{key}", value, types[key])
    return flat


def _typed(path: Path, where: str, value: Any, kind: type) -> Any:
    """``value`` checked against the default's type (None allowed for account only)."""
    if kind is type(None):  # account: a string or null
        ok = value is None or isinstance(value, str)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is tuple:
        ok = value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    else:
        ok = isinstance(value, kind)
    if not ok:
        want = {tuple: "a list of strings", type(None): "a string or null"}.get(kind, kind.__name__)
        hint = (' in quotes, e.g. "08:00:00" (YAML reads an unquoted 8:00:00 as a number)'
                if where == "slurm.time" else "")
        raise ClusterError(f"{path}: {where}: expected {want}{hint}, got {value!r}")
    return value


def check_spec(spec: ClusterSpec, path: str | Path = "cluster.yaml") -> None:
    """Resources and ports that cannot work, whatever the cluster (ClusterError)."""
    def bad(key: str, why: str) -> ClusterError:
        section = next(s for s, k in SECTIONS.items() if key in k)
        return ClusterError(f"{path}: {section}.{key}: {why}")

    for key in ("nodes", "cpus_per_node"):
        if getattr(spec, key) < 1:
            raise bad(key, f"must be at least 1, got {getattr(spec, key)}")
    if spec.gpus_per_node < 0:
        raise bad("gpus_per_node", f"must be 0 or more, got {spec.gpus_per_node}")
    try:
        limit = spec.time_s
    except ValueError as exc:
        raise bad("time", str(exc)) from exc
    if limit <= 0:
        raise bad("time", "must be more than zero")
    if not 0 <= spec.signal_s < limit:
        raise bad("signal_s", f"{spec.signal_s} s before the end does not fit in time "
                              f"{spec.time} ({limit} s)")
    if spec.nodes_timeout_s < 1:
        raise bad("nodes_timeout_s", "must be at least 1")
    if spec.head_interface and not re.fullmatch(r"[A-Za-z0-9_.:@-]{1,15}", spec.head_interface):
        raise bad("head_interface", f"{spec.head_interface!r} is not a network interface name")
    _check_ports(spec, bad)


def _check_ports(spec: ClusterSpec, bad: Any) -> None:
    top = (spec.nodes - 1) * spec.node_port_offset
    for key in (*HEAD_PORTS, *NODE_PORTS, "min_worker_port", "max_worker_port"):
        value = getattr(spec, key)
        zero_ok = key in NODE_PORTS or key == "ray_client_server_port"
        high = 65535 if key in HEAD_PORTS else 65535 - top  # node ports shift per node
        if not (value == 0 and zero_ok) and not 1024 <= value <= high:
            raise bad(key, f"{value} is not a port in 1024..{high}"
                           + (" (or 0: Ray picks)" if zero_ok else ""))
    if spec.min_worker_port >= spec.max_worker_port:
        raise bad("min_worker_port", f"{spec.min_worker_port} is not below max_worker_port "
                                     f"{spec.max_worker_port}")
    span = spec.max_worker_port - spec.min_worker_port
    if spec.node_port_offset < 0 or (spec.node_port_offset and spec.node_port_offset <= span):
        raise bad("node_port_offset", f"{spec.node_port_offset}: must be 0, or more than the "
                                      f"worker port range ({span}) so nodes' ranges never meet")
    used: dict[int, str] = {}
    for key in (*HEAD_PORTS, *NODE_PORTS):
        value = getattr(spec, key)
        if value and spec.min_worker_port <= value <= spec.max_worker_port:
            raise bad(key, f"{value} lies in the worker port range")
        if value and value in used:
            raise bad(key, f"{value} is also {used[value]}")
        used[value] = key


def dashboard_missing() -> list[str]:
    """The modules Ray's dashboard needs that this Python cannot import ([] = none missing).

    ``ray start --include-dashboard=true`` fails ("Cannot include dashboard with missing
    packages") when an import of ``ray.dashboard.optional_deps`` fails; the modules checked
    here are that file's imports, found without importing them.
    """
    spec = importlib.util.find_spec("ray.dashboard.optional_deps")
    names = _imported_modules(Path(spec.origin)) if spec and spec.origin else DASHBOARD_MODULES
    return [name for name in names if not _importable(name)]


def _imported_modules(source: Path) -> tuple[str, ...]:
    """Module names a Python file imports (``import a.b`` -> a.b, ``from a import b`` -> a)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return tuple(dict.fromkeys(names))


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is missing
        return False


def check_dashboard(spec: ClusterSpec, path: str | Path = "cluster.yaml") -> None:
    """Refuse ``ray.include_dashboard: true`` where this host lacks the dashboard's packages
    (ClusterError): the job's ``ray start --head`` would fail the same way on the nodes."""
    if not spec.include_dashboard:
        return
    missing = dashboard_missing()
    if missing:
        raise ClusterError(
            f"{path}: ray.include_dashboard: true needs Ray's dashboard packages, missing on "
            f"this host: {', '.join(missing)}; pip install \"ray[default]\" (in the environment "
            "env.setup activates) or set include_dashboard: false")
