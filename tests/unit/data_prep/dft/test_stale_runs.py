"""Temporary folders of interrupted GPAW runs are removed when their process is gone, a zombie
included (a killed worker stays a zombie where PID 1 does not reap orphans, as in containers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from data_prep.dft.runs import _pid_alive, _remove_stale


def _zombie() -> subprocess.Popen:
    """A child that has exited and is not yet waited for: a zombie of this process."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    end = time.time() + 30
    while time.time() < end:
        if Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return proc
        time.sleep(0.05)
    raise AssertionError("the child did not exit within 30 s")


def test_a_zombie_is_not_alive_and_a_sleeping_process_is(tmp_path):
    zombie = _zombie()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        os.kill(zombie.pid, 0)  # kill(pid, 0) alone would call it alive
        assert not _pid_alive(zombie.pid)
        assert _pid_alive(sleeper.pid) and _pid_alive(os.getpid())
    finally:
        sleeper.kill()
        sleeper.wait()
        zombie.wait()
    assert not _pid_alive(sleeper.pid)  # reaped: no such process


def test_stale_folders_of_gone_processes_are_removed_live_ones_kept(tmp_path):
    zombie = _zombie()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        names = {"zombie": f".AFM-Neel.tmp-{zombie.pid}", "live": f".AFM-Neel.tmp-{sleeper.pid}",
                 "own": f".AFM-Neel.tmp-{os.getpid()}", "odd": ".AFM-Neel.tmp-x1",
                 "other": f".FM.tmp-{zombie.pid}"}  # fmt: skip
        for name in names.values():
            (tmp_path / name).mkdir()
            (tmp_path / name / "gpaw.txt").write_text("half a run")
        _remove_stale(tmp_path, "AFM-Neel")
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {names["live"], names["other"]}  # FM is another configuration's run
    finally:
        sleeper.kill()
        sleeper.wait()
        zombie.wait()
