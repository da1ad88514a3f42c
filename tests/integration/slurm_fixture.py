"""A throw-away Slurm for the tests: munged, slurmctld and one slurmd per node, all on this
machine, configured in a private folder, with GPUs faked for scheduling.

Slurm 22.05 (Debian's ``slurmctld slurmd slurm-client munge``, installed by ``.ci/setup.sh``)
needs no systemd: the daemons run in the foreground as children of the test (``-D``/``-F``) and
are stopped by their PIDs. The nodes ``n1 .. nN`` are all this host (own slurmd ports and spool
folders); each has ``gpus`` fake GPUs: ``gres.conf`` ``File=`` symlinks to /dev/null, so jobs get
``CUDA_VISIBLE_DEVICES`` but no GPU exists. Commands reach this Slurm through ``SLURM_CONF``
(:meth:`SlurmCluster.env`), which sbatch passes on to the jobs.

No test here (helpers only). Without Slurm installed the tests skip, except under ``CI``, where
a Slurm that is missing or does not come up is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo")
CRED_EXPIRE_S = 10  # a requeued job waits this long before it starts again


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def slurm_conf(folder: Path, nodes: int, cpus: int, gpus: int, ports: list[int]) -> str:
    """slurm.conf for ``nodes`` nodes on this host; ``ports`` = [slurmctld, slurmd n1, ...]."""
    host = socket.gethostname().split(".")[0]
    lines = [
        "ClusterName=magvoxtest", f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={ports[0]}", f"SlurmUser={_user()}", f"SlurmdUser={_user()}",
        "AuthType=auth/munge", "CredType=cred/munge",
        f"AuthInfo=socket={folder}/munge.sock,cred_expire={CRED_EXPIRE_S}",
        f"StateSaveLocation={folder}/state", f"SlurmdSpoolDir={folder}/spool/%n",
        f"SlurmctldPidFile={folder}/slurmctld.pid", f"SlurmdPidFile={folder}/slurmd.%n.pid",
        f"SlurmctldLogFile={folder}/slurmctld.log", f"SlurmdLogFile={folder}/slurmd.%n.log",
        # no cgroups (22.05 does not know CgroupPlugin=disabled: no cgroup.conf at all)
        "ProctrackType=proctrack/pgid", "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none", "MpiDefault=none", "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "ReturnToService=2",
        "SlurmdParameters=config_overrides", "GresTypes=gpu", "MinJobAge=300", "KillWait=5",
    ]
    for i in range(1, nodes + 1):
        lines.append(f"NodeName=n{i} NodeHostname={host} NodeAddr=127.0.0.1 Port={ports[i]} "
                     f"CPUs={cpus} RealMemory=4000 Gres=gpu:{gpus}")
    lines.append(f"PartitionName=gpu Nodes=n[1-{nodes}] Default=YES MaxTime=1-00:00:00 State=UP")
    return "\n".join(lines) + "\n"


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


class SlurmCluster:
    """A private Slurm: ``start()`` brings it up (about 5 s), ``stop()`` ends what it started.

    Attributes:
        folder: its configuration, state, spool and log folder (under /tmp: munged wants every
            folder above its socket searchable by all, which pytest's tmp_path is not).
        nodes, cpus, gpus: nodes n1..nN, CPUs and fake GPUs per node; partition ``gpu``.
    """

    def __init__(self, nodes: int = 2, cpus: int = 2, gpus: int = 2) -> None:
        self.nodes, self.cpus, self.gpus = nodes, cpus, gpus
        self.folder = Path(tempfile.mkdtemp(prefix="mvslurm-", dir="/tmp"))
        self.folder.chmod(0o755)
        self._procs: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        """The environment that points Slurm's commands at this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.folder / "slurm.conf")}

    def _write_config(self) -> None:
        f = self.folder
        for sub in ("state", "spool"):
            (f / sub).mkdir()
        key = f / "munge.key"
        key.write_bytes(os.urandom(128))
        key.chmod(0o600)
        for g in range(self.gpus):
            (f / f"gpu{g}").symlink_to("/dev/null")
        ports = _free_ports(self.nodes + 1)
        (f / "slurm.conf").write_text(slurm_conf(f, self.nodes, self.cpus, self.gpus, ports))
        files = f"{f}/gpu[0-{self.gpus - 1}]" if self.gpus > 1 else f"{f}/gpu0"
        (f / "gres.conf").write_text(
            "AutoDetect=off\n" + (f"NodeName=n[1-{self.nodes}] Name=gpu File={files}\n"
                                  if self.gpus else ""))

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = (self.folder / f"{name}.out").open("w")
        self._procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env, start_new_session=True))

    def start(self, timeout: float = 60) -> SlurmCluster:
        """Write the configuration, start the daemons, wait until every node is idle."""
        self._write_config()
        f = self.folder
        self._spawn("munged", ["munged", "-F", f"--socket={f}/munge.sock",
                               f"--key-file={f}/munge.key", f"--log-file={f}/munged.log",
                               f"--pid-file={f}/munged.pid", f"--seed-file={f}/munged.seed"])
        self._wait(lambda: (f / "munge.sock").exists(), 15, "munged socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        for i in range(1, self.nodes + 1):
            self._spawn(f"slurmd-n{i}", ["slurmd", "-D", "-N", f"n{i}"])
        self._wait(lambda: self.idle_nodes() == self.nodes, timeout, "all nodes idle")
        return self

    def idle_nodes(self) -> int:
        out = self.run("sinfo", "-h", "-N", "-o", "%t", check=False).stdout.split()
        return sum(state == "idle" for state in out)

    def _wait(self, predicate, timeout: float, what: str) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if predicate():
                return
            dead = [p.args[0] for p in self._procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.2)
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}"
                         for p in sorted(self.folder.glob("*.out")) if p.is_file())
        self.stop()
        raise RuntimeError(f"test Slurm: {what} not reached in {timeout} s "
                           f"(exited: {dead or 'none'})\n{logs}")

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm command (sbatch, squeue, scontrol ...) against this cluster."""
        done = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
        return done

    def job_field(self, job_id: str, key: str) -> str:
        """One ``Key=value`` of ``scontrol show job`` (e.g. JobState, Restarts), '' if absent."""
        out = self.run("scontrol", "show", "job", job_id, check=False).stdout
        for word in out.split():
            if word.startswith(f"{key}="):
                return word.split("=", 1)[1]
        return ""

    def stop(self) -> None:
        """Cancel every job, then stop the daemons this object started (SIGTERM, then KILL)."""
        if any(p.poll() is None for p in self._procs):
            self.run("scancel", "--full", "--user", _user(), check=False)
            end = time.time() + 20
            while time.time() < end and self.run("squeue", "-h", check=False).stdout.strip():
                time.sleep(0.5)
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()


def slurm_or_skip() -> None:
    """Skip without Slurm, but fail under CI (``.ci/setup.sh`` installs it)."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Slurm is not installed (missing {missing}): .ci/setup.sh installs it",
                    pytrace=False)
    pytest.skip(f"Slurm is not installed (missing {missing})")


@pytest.fixture(scope="session")
def slurm():
    """A two-node Slurm with two fake GPUs and two CPUs per node, for the whole session."""
    slurm_or_skip()
    cluster = SlurmCluster(nodes=2, cpus=2, gpus=2).start()
    yield cluster
    cluster.stop()
    shutil.rmtree(cluster.folder, ignore_errors=True)
