"""The Slurm batch script of a search: Ray on the allocated nodes, then the search driver.

What the script does, in order:

1. ``srun`` a Ray head on the first node and waits (``python3 -m search.cluster.raynodes``, polling
the
   head, no fixed sleeps) until it answers; then one Ray worker per other node, and waits until
   Ray reports every node, or fails with the nodes it has after ``nodes_timeout_s``. Node ``i``
   uses each per-node port + ``i * node_port_offset``. Ray's token authentication is on: every
   node and the driver read the search's token file (``RAY_AUTH_TOKEN_PATH``).
2. Runs the driver on the first node: ``magvox search resume`` when the search's record exists
   (a requeued or resubmitted job), else ``magvox search start``. The driver is the only process
   that writes the search state (Tune folder, Optuna and MLflow SQLite) on the shared folder.
3. Slurm sends SIGUSR1 to the script ``signal_s`` before the time limit (``--signal=B:USR1@``);
   the script passes it to the driver (Ray Tune stops, saves and returns) and, once the driver
   has exited with the search unfinished, requeues its own job, which resumes the search.
"""

from __future__ import annotations

import shlex

from search.cluster.spec import NODE_PORTS, ClusterSpec


def sbatch_header(spec: ClusterSpec, log: str) -> list[str]:
    """The ``#SBATCH`` lines: one task per node, all its CPUs and GPUs to that task; the log is
    appended to (a requeued job writes on in the same file)."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={spec.job_name}",
             f"#SBATCH --partition={spec.partition}", f"#SBATCH --nodes={spec.nodes}",
             "#SBATCH --ntasks-per-node=1", f"#SBATCH --cpus-per-task={spec.cpus_per_node}",
             f"#SBATCH --time={spec.time}", f"#SBATCH --output={log}",
             "#SBATCH --open-mode=append", f"#SBATCH --signal=B:USR1@{spec.signal_s}"]
    if spec.gpus_per_node:
        lines.append(f"#SBATCH --gpus-per-node={spec.gpus_per_node}")
    if spec.account:
        lines.append(f"#SBATCH --account={spec.account}")
    lines.append("#SBATCH --requeue" if spec.requeue else "#SBATCH --no-requeue")
    lines += [f"#SBATCH {x}" for x in spec.sbatch_extra]
    return lines


def ray_start(spec: ClusterSpec, index: int) -> str:
    """``ray start --block`` for node ``index`` (0 = head), run by srun so the step holds it."""
    shift = index * spec.node_port_offset
    ports = [f"--{key.replace('_', '-')}={getattr(spec, key) + shift}" for key in NODE_PORTS
             if getattr(spec, key)]
    ports += [f"--min-worker-port={spec.min_worker_port + shift}",
              f"--max-worker-port={spec.max_worker_port + shift}"]
    common = (f"--num-cpus={spec.cpus_per_node} --num-gpus={spec.gpus_per_node} "
              f"{' '.join(ports)} --temp-dir={shlex.quote(spec.temp_dir)} "
              "--disable-usage-stats --block")
    if index == 0:
        dashboard = (f"--include-dashboard=true --dashboard-port={spec.dashboard_port}"
                     if spec.include_dashboard else "--include-dashboard=false")
        client = (f"--ray-client-server-port={spec.ray_client_server_port} "
                  if spec.ray_client_server_port else "")  # needs ray[client]
        return (f'ray start --head --node-ip-address="$head_ip" --port={spec.port} '
                f"{client}{dashboard} {common}")
    return f'ray start --address="$address" {common}'


def head_ip_lines(spec: ClusterSpec) -> list[str]:
    """Set ``head_ip``: the first node's address on ``spec.head_interface``, else the first
    address of its ``hostname --ip-address``; the job ends at once if there is none."""
    on_head = 'srun --nodes=1 --ntasks=1 -w "${nodes[0]}"'
    if spec.head_interface:
        iface = shlex.quote(spec.head_interface)
        lookup = (f"head_ip=$({on_head} ip -4 -o addr show dev {iface}"
                  " | awk '{split($4, a, \"/\"); print a[1]; exit}')")
        where = f"interface {spec.head_interface}"
    else:
        lookup = f"head_ip=$({on_head} hostname --ip-address | awk '{{print $1}}')"
        where = "hostname --ip-address"
    return [lookup, f'[ -n "$head_ip" ] || {{ echo "magvox: no IPv4 address from {where} on'
                    ' ${nodes[0]}" >&2; exit 1; }']


def ray_lines(spec: ClusterSpec) -> list[str]:
    """Start the head, wait for it, start the workers, wait for all of them (failing at once
    if a ``ray start`` step ends)."""
    step = 'srun --nodes=1 --ntasks=1 -w "${nodes[%d]}" %s & steps+=($!)'
    wait = (f'python3 -m search.cluster.raynodes "$address" %d --timeout {spec.nodes_timeout_s}'
            ' --watch "${steps[@]}" || exit 1')
    lines = ["steps=()", step % (0, ray_start(spec, 0)), wait % 1]
    lines += [step % (i, ray_start(spec, i)) for i in range(1, spec.nodes)]
    if spec.nodes > 1:
        lines.append(wait % spec.nodes)
    return lines


def driver_lines(name: str, root: str, start_args: list[str]) -> list[str]:
    """Run (start or resume) the driver in the background so the USR1 trap can reach it, wait for
    it, and requeue the job when it was stopped for the time limit before the search finished."""
    record = shlex.quote(f"{root}/{name}/search.json")
    start = shlex.join(["magvox", "search", "start", "--name", name, "--root", root,
                        *start_args])
    resume = shlex.join(["magvox", "search", "resume", name, "--root", root])
    return [
        'if [ "$stop" = 1 ]; then scontrol requeue "$SLURM_JOB_ID"; exit 0; fi',
        f"if [ -f {record} ]; then",
        f'  {resume} --address "$address" &',
        "else",
        f'  {start} --address "$address" &',
        "fi",
        "driver=$!",
        'while :; do wait "$driver"; rc=$?; kill -0 "$driver" 2>/dev/null || break; done',
        f'if [ "$stop" = 1 ] && ! python3 -m search.cluster.raynodes --finished {record}; then',
        '  echo "magvox: time limit near; search saved, requeueing job $SLURM_JOB_ID"',
        '  scontrol requeue "$SLURM_JOB_ID"',
        "fi",
        'exit "$rc"',
    ]


def batch_script(spec: ClusterSpec, name: str, start_args: list[str], log: str,
                 root: str = "searches", token: str = "ray_token") -> str:
    """The whole batch script for search ``name`` whose state lives in ``root``/``name``
    (relative to ``spec.workdir``); ``token`` is the Ray token file all nodes read."""
    body = [
        "set -uo pipefail",
        'echo "magvox: job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}) on'
        ' $SLURM_JOB_NODELIST, $(date -Is)"',
        spec.setup.strip(),
        f"cd {shlex.quote(spec.workdir)} || exit 1",
        f"export PYTHONUNBUFFERED=1 RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={shlex.quote(token)}",
        "stop=0 driver=",
        'trap \'stop=1; if [ -n "$driver" ]; then kill -USR1 "$driver"; fi\' USR1',
        'nodes=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))',
        *head_ip_lines(spec),
        f'address="$head_ip:{spec.port}"',
        *ray_lines(spec),
        *driver_lines(name, root, start_args),
    ]
    return "\n".join(sbatch_header(spec, log) + [line for line in body if line]) + "\n"
