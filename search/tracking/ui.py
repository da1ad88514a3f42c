"""Start ``mlflow server`` on a search's tracking store (the MLflow UI), in the foreground.

``magvox ui NAME`` opens the search's runs table in MLflow's model-training view, every trial a
row, best search metric first, that metric's column shown. How MLflow 3.17's UI is steered there
(read from its JS bundle, checked in headless Chromium):

- ``?workflowType=machine_learning``: the GenAI / Model training switch. The experiment's tag
  ``mlflow.experimentKind`` does not choose it in 3.17; without the parameter the browser's last
  choice (localStorage, GenAI when new) applies.
- ``?viewStateShareKey=KEY``: a saved view, the experiment tag ``mlflow.sharedViewState.KEY``
  holding ``{"name", "createdAt", "updatedAt", "state"}`` with ``state`` the runs table's facets
  (``orderByKey``, ``orderByAsc``, ...) and columns (``selectedColumns``) as JSON. It is listed
  under "Views"; the page says a shared view is shown until the user saves or leaves it. Columns
  can only be chosen this way (``orderByKey``/``orderByAsc`` alone in the URL sort but show no
  metric column, and any such facet in the URL makes the saved view be ignored).
- Sorted by a metric, MLflow lists runs flat (trials are no longer nested under the search's
  parent run, which comes last: it has no value of the metric).

The MLflow Assistant panel cannot be switched off from here: the page offers it whenever it is
opened on localhost/127.0.0.1/::1 (or the server sets ``MLFLOW_ENABLE_REMOTE_ASSISTANT``), opens
it by itself on a browser's first visit, and remembers it only in the browser's localStorage
(``mlflow.assistant.panelOpen_v1``). ``mlflow server`` has no option or environment variable to
disable it, nor does the URL. Its close button keeps it closed in that browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from search.tune.state import (
    SearchPaths,
    SearchRecord,
    default_tracking_uri,
    load_record,
    searches_root,
)

HOST, PORT = "127.0.0.1", 5000  # where the MLflow UI listens by default (this machine only)

VIEW_KEY = "magvox-trials"  # the saved runs-table view magvox keeps on each search's experiment
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"


def ui_command(name: str | None, root: str | None, tracking_uri: str | None,
               host: str, port: int) -> tuple[list[str], str]:
    """The ``mlflow server`` command line and the URL to open: with ``name``, that search's
    trials in the model-training view through the view ``save_trials_view`` writes."""
    base = searches_root(root)
    url = f"http://{host}:{port}/"
    if name:
        record = load_record(SearchPaths(base, name))
        tracking_uri = tracking_uri or record.tracking_uri
        url += (f"#/experiments/{record.experiment_id}/runs"
                f"?workflowType=machine_learning&viewStateShareKey={VIEW_KEY}")
    tracking_uri = tracking_uri or default_tracking_uri(base)
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri,
           "--host", host, "--port", str(port), "--workers", "1"]
    if tracking_uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (base / "mlartifacts").as_uri()]
    return cmd, url


def trials_view(metric: str, mode: str) -> dict[str, Any]:
    """The saved-view envelope (the value of tag ``VIEW_TAG``): runs sorted by ``metric``, best
    first (``mode`` ``max`` or ``min``), with the metric and the trial status as columns."""
    column = f"metrics.`{metric}`"
    state = {"orderByKey": column, "orderByAsc": mode == "min",
             "selectedColumns": [column, "tags.`magvox.status`"]}
    now_ms = int(time.time() * 1000)
    return {"name": f"trials by {metric}", "createdAt": now_ms, "updatedAt": now_ms,
            "state": json.dumps(state)}


def save_trials_view(record: SearchRecord, tracking_uri: str) -> None:
    """Write (or refresh) the trials view on the search's experiment in ``tracking_uri``."""
    from search.tracking import client as tracking
    from search.tracking.report import metric_name

    view = trials_view(*metric_name(record))
    tracking.client(tracking_uri).set_experiment_tag(record.experiment_id, VIEW_TAG,
                                                     json.dumps(view))


def serve(name: str | None, root: str | None = None, tracking_uri: str | None = None,
          host: str = HOST, port: int = PORT) -> int:
    """Run the MLflow UI until interrupted; print the URL of the search's experiment first."""
    cmd, url = ui_command(name, root, tracking_uri, host, port)
    if name:
        record = load_record(SearchPaths(searches_root(root), name))
        save_trials_view(record, tracking_uri or record.tracking_uri)
    print(f"MLflow UI: {url}", flush=True)
    # no background job runner (GenAI judges): nothing of it is used, and it outlives the server
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
