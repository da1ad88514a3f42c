"""Start ``mlflow server`` on a search's tracking store (the MLflow UI), in the foreground."""

from __future__ import annotations

import os
import subprocess
import sys

from search.state import SearchPaths, default_tracking_uri, load_record, searches_root


def ui_command(name: str | None, root: str | None, tracking_uri: str | None,
               host: str, port: int) -> tuple[list[str], str]:
    """The ``mlflow server`` command line and the URL to open (the search's experiment)."""
    base = searches_root(root)
    url = f"http://{host}:{port}/"
    if name:
        record = load_record(SearchPaths(base, name))
        tracking_uri = tracking_uri or record.tracking_uri
        url += f"#/experiments/{record.experiment_id}/runs"
    tracking_uri = tracking_uri or default_tracking_uri(base)
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri,
           "--host", host, "--port", str(port), "--workers", "1"]
    if tracking_uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (base / "mlartifacts").as_uri()]
    return cmd, url


def serve(name: str | None, root: str | None = None, tracking_uri: str | None = None,
          host: str = "127.0.0.1", port: int = 5000) -> int:
    """Run the MLflow UI until interrupted; print the URL of the search's experiment first."""
    cmd, url = ui_command(name, root, tracking_uri, host, port)
    print(f"MLflow UI: {url}", flush=True)
    # no background job runner (GenAI judges): nothing of it is used, and it outlives the server
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
