"""The one place magvox starts or joins Ray (prep, generate and the search all come here).

Without an address, a private local cluster with its own temp dir: another user's cluster on the
same machine is never joined by accident, and its /tmp/ray/session_latest is left alone.
"""

from __future__ import annotations

import os
import tempfile

LOCAL_TEMP_DIR = os.path.join(tempfile.gettempdir(), "magvox-ray")
WORKER_NICENESS = "RAY_worker_niceness"  # read by each Ray worker at start: nice(+value)


class RayStartError(RuntimeError):
    """A private local Ray cluster that did not come up."""


def connect(address: str | None = None, num_cpus: int | None = None,
            env_vars: dict[str, str] | None = None) -> bool:
    """Join the Ray cluster at ``address``, or start a private local one with ``num_cpus`` CPUs
    (default: all); ``env_vars`` are set in every worker. Returns True if this call started or
    joined Ray, False if Ray was already initialised in this process.

    Workers run at the niceness of the process that started their Ray node (``nice magvox ...``
    niced them all), not Ray's default of +15 above it: at +15 a trial or a DFT run got a fifth
    of a core beside any other job, and a search's trials fell behind its own driver."""
    import ray

    if ray.is_initialized():
        return False
    runtime_env = {"env_vars": {WORKER_NICENESS: "0", **(env_vars or {})}}
    if address:
        ray.init(address=address, log_to_driver=False, runtime_env=runtime_env)
    else:
        try:
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1,
                     include_dashboard=False, log_to_driver=False, _temp_dir=LOCAL_TEMP_DIR,
                     runtime_env=runtime_env, logging_level="ERROR")
        except Exception as exc:  # Ray's own start-up timeout: say what to do, no traceback
            raise RayStartError(
                f"the local Ray cluster did not start ({exc}); on an overloaded machine start "
                f"the command again, or niced less (its Ray daemons inherit the niceness)"
            ) from exc
    return True
