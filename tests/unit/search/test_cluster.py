"""The SLURM batch script generated from cluster.yaml: parsed back and checked line by line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from search.cluster import batch_script, load_cluster, submit_search
from search.service import StartOptions

REPO = Path(__file__).resolve().parents[3]


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
    assert script.startswith("#!/bin/bash\n")
    assert "ray start --head" in script and f"--port={spec.port}" in script
    assert script.count("ray start --address") == 1  # inside the per-worker loop
    assert f"--temp-dir={spec.temp_dir}" in script
    assert "if [ -f searches/s1/search.json ]" in script  # resubmission resumes
    assert "magvox search resume s1 --root searches --address" in script
    assert "magvox search start --name s1 --root searches --sampler=tpe --trials=20" in script
    path = tmp_path / "job.sbatch"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)  # valid bash syntax


def test_unknown_cluster_keys_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("slurm:\n  partitoin: gpu\n")
    with pytest.raises(ValueError, match="partitoin"):
        load_cluster(bad)


def test_submit_dry_run_writes_the_script_in_the_search_folder(tmp_path: Path) -> None:
    opts = StartOptions(space="default", sampler="random", trials=3, name="slurm-test",
                        root=str(tmp_path), dataset=str(tmp_path))
    script = submit_search(str(REPO / "cluster.yaml"), opts, dry_run=True)
    assert script == tmp_path / "slurm-test" / "slurm.sbatch"
    text = script.read_text()
    assert "--sampler=random" in text and "--trials=3" in text and "--space=default" in text
    assert sbatch_options(text)["output"].endswith("slurm-test/slurm-%j.out")
    assert f"--root {tmp_path} " in text and f"{tmp_path}/slurm-test/search.json" in text
