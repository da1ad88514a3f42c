"""cluster.yaml checked key by key, and the Slurm batch script made from it: parsed back and
checked line by line (the script itself runs on a real Slurm in tests/integration)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from search.cluster.batch import batch_script
from search.cluster.slurm import submit
from search.cluster.spec import ClusterError, load_cluster, parse_time
from search.tune.service import StartOptions

REPO = Path(__file__).resolve().parents[4]


def sbatch_options(script: str) -> dict[str, str]:
    """``#SBATCH --key=value`` lines as a dict (flags map to '')."""
    out = {}
    for line in script.splitlines():
        m = re.match(r"#SBATCH --([\w-]+)(?:=(.*))?$", line)
        if m:
            out[m.group(1)] = m.group(2) or ""
    return out


def test_repository_cluster_yaml_makes_a_valid_batch_script(tmp_path: Path) -> None:
    spec = load_cluster(REPO / "cluster.yaml")
    script = batch_script(spec, "s1", ["--sampler=tpe", "--trials=20"], "log-%j.out")
    opts = sbatch_options(script)
    assert opts["partition"] == spec.partition and opts["nodes"] == str(spec.nodes)
    assert opts["gpus-per-node"] == str(spec.gpus_per_node)
    assert opts["ntasks-per-node"] == "1" and opts["time"] == spec.time and "requeue" in opts
    assert opts["signal"] == f"B:USR1@{spec.signal_s}" and opts["open-mode"] == "append"
    assert script.startswith("#!/bin/bash\n")
    assert "ray start --head" in script and f"--port={spec.port}" in script
    assert script.count("ray start --address") == spec.nodes - 1
    assert f"--temp-dir={spec.temp_dir}" in script and "RAY_AUTH_MODE=token" in script
    assert "sleep" not in script  # waits poll Ray, never fixed sleeps
    assert (f"search.cluster.raynodes \"$address\" {spec.nodes} --timeout "
            f"{spec.nodes_timeout_s}") in script
    assert "if [ -f searches/s1/search.json ]" in script  # resubmission resumes
    assert "magvox search resume s1 --root searches --address" in script
    assert "magvox search start --name s1 --root searches --sampler=tpe --trials=20" in script
    path = tmp_path / "job.sbatch"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)  # valid bash syntax


def test_nodes_sharing_a_host_get_ports_shifted_by_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"slurm": {"nodes": 3}, "ray": {
        "node_port_offset": 1000, "min_worker_port": 20000, "max_worker_port": 20100,
        "node_manager_port": 8077, "object_manager_port": 0}}))
    script = batch_script(load_cluster(path), "s", [], "log")
    starts = [line for line in script.splitlines() if "ray start" in line]
    assert [re.search(r"--node-manager-port=(\d+)", s).group(1) for s in starts] == [
        "8077", "9077", "10077"]
    assert [re.search(r"--min-worker-port=(\d+)", s).group(1) for s in starts] == [
        "20000", "21000", "22000"]
    assert "--object-manager-port" not in script  # 0: Ray picks


@pytest.mark.parametrize(("text", "key"), [
    ("slurm:\n  partitoin: gpu\n", "slurm.partitoin"),
    ("slurm:\n  port: 1\n", "slurm.port: unknown key (it belongs in section ray)"),
    ("slurmm:\n  nodes: 1\n", "unknown section 'slurmm'"),
    ("slurm:\n  nodes: 0\n", "slurm.nodes: must be at least 1"),
    ("slurm:\n  nodes: two\n", "slurm.nodes: expected int"),
    ("slurm:\n  gpus_per_node: -1\n", "slurm.gpus_per_node"),
    ("slurm:\n  time: 8 hours\n", "slurm.time"),
    ("slurm:\n  time: '00:02:00'\n  signal_s: 300\n", "slurm.signal_s"),
    ("ray:\n  port: 70000\n", "ray.port: 70000 is not a port"),
    ("ray:\n  min_worker_port: 20000\n  max_worker_port: 10000\n", "ray.min_worker_port"),
    ("ray:\n  node_port_offset: 50\n", "ray.node_port_offset"),
    ("ray:\n  node_manager_port: 10500\n", "ray.node_manager_port: 10500 lies in the worker"),
    ("ray:\n  dashboard_port: 8077\n", "ray.node_manager_port: 8077 is also dashboard_port"),
    ("env:\n  workdir: [1]\n", "env.workdir: expected str"),
    ("slurm:\n  time: 8:00:00\n", 'slurm.time: expected str in quotes, e.g. "08:00:00"'),
    ("ray:\n  head_interface: 'eth0; rm -rf'\n", "ray.head_interface: 'eth0; rm -rf' is not"),
])
def test_bad_cluster_files_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(text)
    with pytest.raises(ClusterError, match=re.escape(f"{bad}: ") + ".*" + re.escape(key)):
        load_cluster(bad)


def test_slurm_times_parse_to_seconds() -> None:
    assert [parse_time(t) for t in ("5", "30:00", "08:00:00", "2-12", "1-00:00:00")] == [
        300, 1800, 28800, 216000, 86400]
    with pytest.raises(ValueError, match="not a Slurm time"):
        parse_time("1h")


def test_submit_dry_run_writes_the_script_in_the_search_folder(tmp_path: Path) -> None:
    opts = StartOptions(space="default", sampler="random", trials=3, name="slurm-test",
                        root=str(tmp_path), dataset=str(tmp_path))
    script, job = submit(str(REPO / "cluster.yaml"), opts, dry_run=True)
    assert script == tmp_path / "slurm-test" / "slurm.sbatch" and job is None
    text = script.read_text()
    assert "--sampler=random" in text and "--trials=3" in text and "--space=default" in text
    assert sbatch_options(text)["output"].endswith("slurm-test/slurm-%j.out")
    assert f"--root {tmp_path} " in text and f"{tmp_path}/slurm-test/search.json" in text
    token = tmp_path / "slurm-test" / "ray_token"
    assert f"RAY_AUTH_TOKEN_PATH={token}" in text and token.stat().st_mode & 0o077 == 0


def test_a_finished_search_is_not_submitted_again(tmp_path: Path) -> None:
    from search.cluster.slurm import resubmit

    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "search.json").write_text('{"status": "finished"}')
    with pytest.raises(ClusterError, match="search 'done' is finished"):
        resubmit("done", str(REPO / "cluster.yaml"), str(tmp_path), dry_run=True)


def test_extend_through_slurm_changes_nothing_until_slurm_takes_the_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``magvox search extend NAME --trials N --slurm``: a dry run writes the batch script (it
    resumes the search) and leaves the finished record as it was; where Slurm cannot be asked
    the extension is refused before the record gets its new round."""
    from search.cluster.slurm import resubmit

    record = tmp_path / "done" / "search.json"
    record.parent.mkdir()
    record.write_text('{"status": "finished"}')
    script, job = resubmit("done", str(REPO / "cluster.yaml"), str(tmp_path), dry_run=True,
                           extend=4)
    assert job is None and "magvox search resume done" in script.read_text()
    assert record.read_text() == '{"status": "finished"}'
    monkeypatch.setenv("PATH", str(tmp_path))  # no sinfo, no sbatch
    with pytest.raises(ClusterError, match="cannot ask Slurm: sinfo not found"):
        resubmit("done", str(REPO / "cluster.yaml"), str(tmp_path), extend=4)
    assert record.read_text() == '{"status": "finished"}'


def test_the_head_announces_its_address_on_the_interface_asked_for() -> None:
    import subprocess

    from search.cluster.batch import head_ip_lines
    from search.cluster.spec import ClusterSpec

    default = "\n".join(head_ip_lines(ClusterSpec()))
    assert "hostname --ip-address" in default
    lines = head_ip_lines(ClusterSpec(head_interface="lo"))
    assert "ip -4 -o addr show dev lo" in lines[0]
    # run the lookup here (srun left out): the loopback interface's address
    script = "\n".join([lines[0].replace('srun --nodes=1 --ntasks=1 -w "${nodes[0]}" ', ""),
                        lines[1], 'echo "$head_ip"'])
    done = subprocess.run(["bash", "-c", "nodes=(here)\n" + script], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "127.0.0.1"
    missing = script.replace("dev lo", "dev magvox-none0")
    failed = subprocess.run(["bash", "-c", "nodes=(here)\n" + missing], capture_output=True,
                            text=True)
    assert failed.returncode == 1
    assert "no IPv4 address from interface lo on here" in failed.stderr


def test_the_shipped_cluster_yaml_leaves_the_dashboard_off() -> None:
    from search.cluster.spec import ClusterSpec

    raw = yaml.safe_load((REPO / "cluster.yaml").read_text())
    assert raw["ray"]["include_dashboard"] is False and ClusterSpec().include_dashboard is False
    script = batch_script(load_cluster(REPO / "cluster.yaml"), "s", [], "log")
    assert "--include-dashboard=false" in script and "--include-dashboard=true" not in script


def test_the_dashboard_check_agrees_with_rays_own() -> None:
    from ray._private.utils import get_dashboard_dependency_error

    from search.cluster.spec import dashboard_missing

    assert bool(dashboard_missing()) == (get_dashboard_dependency_error() is not None)


def _dashboard_on(tmp_path: Path) -> Path:
    raw = yaml.safe_load((REPO / "cluster.yaml").read_text())
    raw["ray"]["include_dashboard"] = True
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_dashboard_without_its_packages_is_refused_before_submitting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("search.cluster.spec.dashboard_missing", lambda: ["aiohttp_cors", "grpc"])
    path = _dashboard_on(tmp_path)
    opts = StartOptions(space="default", sampler="random", trials=3, name="dash",
                        root=str(tmp_path / "s"), dataset=str(tmp_path))
    with pytest.raises(ClusterError) as err:
        submit(str(path), opts, dry_run=True)
    assert str(err.value) == (
        f"{path}: ray.include_dashboard: true needs Ray's dashboard packages, missing on this "
        'host: aiohttp_cors, grpc; pip install "ray[default]" (in the environment env.setup '
        "activates) or set include_dashboard: false")
    assert not (tmp_path / "s").exists()  # nothing written
    monkeypatch.setattr("search.cluster.spec.dashboard_missing", lambda: [])
    script, _ = submit(str(path), opts, dry_run=True)
    assert "--include-dashboard=true --dashboard-port=8265" in script.read_text()
