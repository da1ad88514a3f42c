"""Filter pictures drawn off the trials' path.

A trial writes its first-layer kernels (``filters.npy``) and the MLflow callback logs them when the
trial ends; the pictures (``artifacts.plot_filter``, ~0.1 s each) are then drawn by one background
thread of the driver, so neither the trial nor Tune's event loop waits for matplotlib; only for
trials of 20 s or more (``search.tracking.callbacks.LIVE_PICTURES_MIN_S``), since on a small
machine the
drawing slows the next trial. A search that ends draws what is still missing (``draw_missing``):
the pictures of shorter trials, and those lost with a killed driver, made from the logged
``filters.npy``.
"""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from search.tracking import artifacts
from search.tracking import client as tracking

log = logging.getLogger(__name__)
FOLDER = "filters"


def draw_and_log(tracking_uri: str, run_id: str, weights: np.ndarray) -> int:
    """Draw the pictures of ``weights`` (F, C, kx, ky, kz) and log them under ``filters/`` of
    the run; returns how many."""
    mlf = tracking.client(tracking_uri)
    with tempfile.TemporaryDirectory(prefix="magvox-pictures-") as tmp:
        files = artifacts.filter_pictures(np.asarray(weights, dtype=np.float32), Path(tmp))
        for path in files:
            mlf.log_artifact(run_id, str(path), artifact_path=FOLDER)
    return len(files)


class PictureQueue:
    """One background thread drawing and logging filter pictures, in submission order."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    def submit(self, run_id: str, weights: np.ndarray) -> None:
        """Queue the pictures of one trial's kernels."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magvox-pictures")
        self._pending.append(self._pool.submit(draw_and_log, self.tracking_uri, run_id,
                                               np.array(weights, copy=True)))

    def wait(self) -> int:
        """Block until every queued picture is logged; returns how many trials failed (logged as
        warnings; ``draw_missing`` makes up for them)."""
        failed = 0
        for future in self._pending:
            try:
                future.result()
            except Exception as exc:  # a picture must never fail the search
                failed += 1
                log.warning("filter pictures: %s", exc)
        self._pending.clear()
        return failed


def draw_missing(record: Any) -> int:
    """Draw and log the pictures of every completed trial of the search that has filters.npy
    but no picture; returns how many trials needed it."""
    import os

    from search.tracking import report

    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # one bar per trial otherwise
    mlf = tracking.client(record.tracking_uri)
    done = 0
    for run in report.trial_runs(record):
        if run.data.tags.get(tracking.STATUS_TAG) != "completed":
            continue
        names = {Path(a.path).name for a in mlf.list_artifacts(run.info.run_id, FOLDER)}
        if "filters.npy" not in names or any(n.endswith(".png") for n in names):
            continue
        with tempfile.TemporaryDirectory(prefix="magvox-filters-") as tmp:
            local = mlf.download_artifacts(run.info.run_id, f"{FOLDER}/filters.npy", tmp)
            draw_and_log(record.tracking_uri, run.info.run_id, np.load(local))
        done += 1
    return done
