"""Filter pictures drawn by the driver's background thread, and made up at the end of a search
for trials whose pictures a killed driver never drew."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from search.tracking import client as tracking
from search.tracking.pictures import PictureQueue, draw_missing


def completed_trial(tmp_path: Path, name: str):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    mlf = tracking.client(uri)
    exp = tracking.ensure_experiment(mlf, "s", tmp_path / "art")
    parent = tracking.start_parent_run(mlf, exp, "s", {"sampler": "tpe"})
    run_id = tracking.trial_run(mlf, exp, parent, name)
    weights = np.random.default_rng(0).normal(size=(2, 2, 3, 3, 3)).astype(np.float32)
    np.save(tmp_path / "filters.npy", weights)
    mlf.log_artifact(run_id, str(tmp_path / "filters.npy"), artifact_path="filters")
    tracking.finish_run(mlf, run_id, "completed")
    record = SimpleNamespace(tracking_uri=uri, experiment_id=exp, parent_run_id=parent)
    return mlf, run_id, weights, record


def pictures(mlf, run_id) -> list[str]:
    return sorted(Path(a.path).name for a in mlf.list_artifacts(run_id, "filters")
                  if a.path.endswith(".png"))


def test_the_queue_logs_one_picture_per_filter(tmp_path: Path) -> None:
    mlf, run_id, weights, record = completed_trial(tmp_path, "t1")
    queue = PictureQueue(record.tracking_uri)
    queue.submit(run_id, weights)
    queue.submit("no-such-run", weights)  # a failure is a warning, not a crash
    assert queue.wait() == 1
    assert pictures(mlf, run_id) == ["filter_0.png", "filter_1.png"]
    assert draw_missing(record) == 0  # nothing left to make up


def test_pictures_a_killed_driver_never_drew_are_made_at_the_end(tmp_path: Path) -> None:
    mlf, run_id, _, record = completed_trial(tmp_path, "t2")
    assert pictures(mlf, run_id) == []
    assert draw_missing(record) == 1
    assert pictures(mlf, run_id) == ["filter_0.png", "filter_1.png"]
