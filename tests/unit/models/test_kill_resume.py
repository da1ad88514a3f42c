"""A `magvox train` killed with SIGKILL mid-trial resumes from its last checkpoint and ends with
the same numbers as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from magdata_fake import FakeDataset, write_zarr_dataset

EPOCHS = 150  # long enough that the kill lands mid-trial, checked below
ARGS = ["--preset", "seed-base", "--set", "kernel_sizes=[5]", "--set", f"epochs={EPOCHS}",
        "--set", "lr=0.05", "--set", "batch_size=4", "--set", "folds=2", "--threads", "1"]


def _train(store, out, **kw):
    cmd = [sys.executable, "-m", "search.commands.cli", "train", "--dataset", str(store), "--out",
           str(out), *ARGS]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


@pytest.mark.slow  # three interpreter start-ups
def test_sigkill_then_rerun_equals_uninterrupted(tmp_path):
    store = write_zarr_dataset(tmp_path / "ds.zarr", FakeDataset(n_composites=10, grid=(8, 8, 24)))
    assert _train(store, tmp_path / "whole").wait(timeout=300) == 0
    victim = _train(store, tmp_path / "killed")
    checkpoint = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and victim.poll() is None:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL  # it was still training: killed, not finished
    assert not (tmp_path / "killed" / "trial.json").exists()
    assert _train(store, tmp_path / "killed").wait(timeout=300) == 0
    whole = json.loads((tmp_path / "whole" / "trial.json").read_text())
    resumed = json.loads((tmp_path / "killed" / "trial.json").read_text())
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in whole["history"]]
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in resumed["history"]] == strip
    assert resumed["filters"] == whole["filters"]
    assert 1 <= resumed["resumed_from"] < EPOCHS  # it went on from the killed run's checkpoint
