"""magvox's private local Ray cluster: its workers run at the niceness of the command that
started it (Ray's default would add 15)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os, ray
from data_prep.ray_local import connect
connect(num_cpus=1)
print(os.nice(0), ray.get(ray.remote(lambda: os.nice(0)).remote()))
ray.shutdown()
"""


def test_workers_run_at_the_niceness_of_the_command() -> None:
    done = subprocess.run(["nice", "-n", "3", sys.executable, "-c", SCRIPT], capture_output=True,
                          text=True, timeout=300, check=True)
    driver, worker = (int(v) for v in done.stdout.split()[-2:])
    assert driver >= 3  # the nice command above (plus whatever ran pytest)
    assert worker == driver
