"""What magvox reads from Slurm's answers (sinfo, squeue, scontrol) and the in-job Ray wait,
without a Slurm (its commands replaced by recorded answers; the real one runs in
tests/integration/test_slurm_*.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.cluster import raynodes, slurm
from search.cluster.spec import ClusterError, ClusterSpec


def answers(monkeypatch: pytest.MonkeyPatch, table: dict[str, tuple[int, str, str]]) -> None:
    """Replace Slurm's commands: the first word of the command -> (exit code, stdout, stderr)."""
    def fake(*cmd: str) -> subprocess.CompletedProcess:
        code, out, err = table[cmd[0]]
        return subprocess.CompletedProcess(cmd, code, out, err)
    monkeypatch.setattr(slurm, "_slurm", fake)
    monkeypatch.setattr(slurm.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_partition_limits_sum_nodes_and_take_the_largest_node(monkeypatch) -> None:
    answers(monkeypatch, {"sinfo": (0, "2|32|gpu:a100:4(S:0-1)|2-00:00:00\n"
                                       "6|64+|gpu:v100:2,gpu:t4:1|2-00:00:00\n", "")})
    assert slurm.partition_limits("gpu") == {"nodes": 8, "cpus": 64, "gpus": 4,
                                             "time_s": 2 * 86400}


@pytest.mark.parametrize(("spec", "message"), [
    (ClusterSpec(partition="big"), "slurm.partition: Slurm has no partition 'big' (it has: gpu)"),
    (ClusterSpec(nodes=3), "slurm.nodes: 3 asked for, partition 'gpu' has at most 2 nodes"),
    (ClusterSpec(gpus_per_node=3), "slurm.gpus_per_node: 3 asked for"),
    (ClusterSpec(time="2-00:00:00"), "slurm.time: 2-00:00:00 is more than partition 'gpu'"),
])
def test_requests_the_partition_cannot_serve_name_the_key(monkeypatch, spec: ClusterSpec,
                                                         message: str) -> None:
    def sinfo(*cmd: str) -> subprocess.CompletedProcess:
        known = "-p" not in cmd or cmd[cmd.index("-p") + 1] == "gpu"
        out = "2|8|gpu:2|1-00:00:00\n" if known else ""
        return subprocess.CompletedProcess(cmd, 0, out if "%R" not in cmd else "gpu\n", "")
    monkeypatch.setattr(slurm, "_slurm", sinfo)
    monkeypatch.setattr(slurm.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(ClusterError, match="^" + re.escape(f"c.yaml: {message}")):
        slurm.check_with_slurm(spec, "c.yaml")


def test_unreachable_slurm_fails_a_submission_but_not_a_dry_run(monkeypatch) -> None:
    answers(monkeypatch, {"sinfo": (1, "", "Unable to contact slurm controller")})
    slurm.check_with_slurm(ClusterSpec(), "c.yaml", required=False)
    with pytest.raises(ClusterError, match=r"c\.yaml: cannot ask Slurm: sinfo: Unable"):
        slurm.check_with_slurm(ClusterSpec(), "c.yaml")


def test_job_state_asks_squeue_then_scontrol(monkeypatch) -> None:
    answers(monkeypatch, {"squeue": (0, "RUNNING\n", "")})
    assert slurm.job_state("7") == "RUNNING"
    answers(monkeypatch, {"squeue": (0, "", ""), "scontrol": (0, "JobId=7 JobState=CANCELLED "
                                                              "Reason=None", "")})
    assert slurm.job_state("7") == "CANCELLED"
    answers(monkeypatch, {"squeue": (1, "", "Invalid job id"), "scontrol": (1, "", "")})
    assert slurm.job_state("7").startswith("unknown to Slurm")


def test_ray_wait_fails_with_what_it_saw(tmp_path: Path) -> None:
    port = _closed_port()
    with pytest.raises(TimeoutError, match=r"2 nodes expected within 1 s .*never answered"):
        raynodes.wait_for_nodes(f"127.0.0.1:{port}", 2, 1.0, poll_s=0.1)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(RuntimeError, match=f"ray start step \\(pid {gone.pid}\\) ended"):
        raynodes.wait_for_nodes(f"127.0.0.1:{port}", 1, 60, watch=[gone.pid])


def test_finished_reads_the_search_record(tmp_path: Path) -> None:
    record = tmp_path / "search.json"
    assert raynodes.main(["--finished", str(record)]) == 1  # no record yet
    record.write_text(json.dumps({"status": "interrupted"}))
    assert raynodes.main(["--finished", str(record)]) == 1
    record.write_text(json.dumps({"status": "finished"}))
    assert raynodes.main(["--finished", str(record)]) == 0


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
