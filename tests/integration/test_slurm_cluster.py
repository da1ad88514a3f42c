"""The throw-away Slurm itself: two nodes on this host, fake GPUs handed to jobs, impossible
requests refused (what the search tests rely on)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_two_nodes_run_steps_and_hand_out_fake_gpus(slurm) -> None:
    out = slurm.run("srun", "-N2", "--gpus-per-node=1", "bash", "-c",
                    "echo $SLURMD_NODENAME:$CUDA_VISIBLE_DEVICES").stdout.split()
    assert sorted(out) == ["n1:0", "n2:0"]


def test_more_gpus_than_a_node_has_are_refused(slurm) -> None:
    done = slurm.run("sbatch", "--test-only", f"--gpus-per-node={slurm.gpus + 1}", "--wrap=true",
                     check=False)
    assert done.returncode != 0 and "configuration is not available" in done.stderr.lower()
