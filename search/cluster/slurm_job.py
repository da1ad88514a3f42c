"""The Slurm job a search driver runs in (``search.tune.service`` on the first node of the job): its
facts for the search record, and Slurm's warning signal before the time limit.

``search.cluster.slurm`` is the login node's side (submitting, asking Slurm) and imports the
service to
write a new search's record; the service imports this module, never that one.
"""

from __future__ import annotations

import os
import signal
from typing import Any


def job_env() -> dict[str, str]:
    """The Slurm job the current process runs in, for the search record (empty outside one)."""
    keys = {"SLURM_JOB_ID": "slurm_job_id", "SLURM_RESTART_COUNT": "slurm_restart_count",
            "SLURM_JOB_NODELIST": "slurm_nodes"}
    return {name: os.environ[k] for k, name in keys.items() if k in os.environ}


class EarlyStop:
    """SIGUSR1 (Slurm's warning before the time limit) received while the driver starts, before
    Ray Tune installs its own handler (Tune stops and saves on it): remembered instead of
    killing the driver, which then stops before running anything."""

    def __init__(self) -> None:
        self.requested = False

    def listen(self) -> None:
        try:
            signal.signal(signal.SIGUSR1, self._note)
        except ValueError:  # not the main thread (a driver run from tests): nothing to catch
            pass

    def _note(self, signum: int, frame: Any) -> None:
        self.requested = True


early_stop = EarlyStop()
