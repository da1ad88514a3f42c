"""A real multi-process Ray cluster on this machine (``ray start --head`` + a worker node, own
temp dir and ports) runs a search through ``--address``; then the whole cluster and the driver
are killed with kill -9, a fresh cluster is started, and ``resume --address`` finishes the search
with no finished trial lost or re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
from test_search_support import (
    completed_trials,
    free_port,
    magvox,
    optuna_trials,
    start_background,
    wait_until,
    write_space,
    write_tiny_dataset,
)

pytestmark = pytest.mark.slow
TRIALS = 5
# A throw-away test cluster on a private temp dir: no token authentication (Ray >= 2.5x enables
# it by default for `ray start`; a real cluster shares its token, see the README).
RAY_ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}


class LocalCluster:
    """A Ray head and one worker node started with ``ray start`` under a private temp dir."""

    def __init__(self) -> None:
        self.temp_dir = f"/tmp/mvt-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> LocalCluster:
        common = ["--num-cpus=1", "--disable-usage-stats"]
        for args in (["--head", f"--port={self.port}", f"--temp-dir={self.temp_dir}",
                      "--include-dashboard=false"], [f"--address={self.address}"]):
            done = subprocess.run(["ray", "start", "--node-ip-address=127.0.0.1", *args,
                                   *common], capture_output=True, text=True, env=RAY_ENV)
            assert done.returncode == 0, done.stderr[-3000:]
        return self

    def pids(self) -> list[int]:
        """Processes of this cluster: their command line names its temp dir or GCS port."""
        mine = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if self.temp_dir in cmd or f"127.0.0.1:{self.port}" in cmd:
                mine.append(int(entry.name))
        return [p for p in mine if p != os.getpid()]

    def kill9(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def nodes_alive(self) -> int:
        out = subprocess.run(["ray", "status", f"--address={self.address}"],
                             capture_output=True, text=True, env=RAY_ENV)
        return out.stdout.count("node_")


@pytest.fixture
def clusters():
    made: list[LocalCluster] = []

    def make() -> LocalCluster:
        made.append(LocalCluster())
        return made[-1].start()

    yield make
    for cluster in made:
        cluster.kill9()


def test_search_on_a_two_node_cluster_survives_kill_9_of_the_cluster(tmp_path: Path,
                                                                     clusters) -> None:
    data = write_tiny_dataset(tmp_path / "tiny.zarr")
    space = write_space(tmp_path / "space.yaml")
    root, name = tmp_path / "s", "oncluster"
    first = clusters()
    wait_until(lambda: first.nodes_alive() == 2, 60)  # head + worker node
    log = tmp_path / "driver.log"
    proc = start_background(["search", "start", "--space", str(space), "--sampler", "random",
                             "--trials", str(TRIALS), "--dataset", str(data), "--root",
                             str(root), "--name", name, "--address", first.address], tmp_path, log,
                            env=RAY_ENV)
    wait_until(lambda: len(completed_trials(root, name)) >= 1, 240, proc, log)
    os.kill(proc.pid, signal.SIGKILL)
    first.kill9()
    proc.wait()
    before = completed_trials(root, name)
    history = optuna_trials(root / name)
    assert len(before) < TRIALS, f"search finished before the kill:\n{log.read_text()[-2000:]}"

    second = clusters()
    magvox("search", "resume", name, "--root", str(root), "--address", second.address,
           cwd=tmp_path, timeout=300, env=RAY_ENV)

    after = completed_trials(root, name)
    assert len(after) == TRIALS and set(before) <= set(after)
    assert all(after[t] == before[t] == 2 for t in before)
    final = optuna_trials(root / name)
    assert all(final[n][1] == params for n, (_, params) in history.items())
    assert [s for s, _ in final.values()].count("COMPLETE") == TRIALS
