"""A search state one checkpoint behind its folders (the driver killed between Tune deleting a
trial's old checkpoint and saving the state) is repaired before ``Tuner.restore``."""

from __future__ import annotations

import json
from pathlib import Path

from search.tune_state import latest_checkpoints, repair_missing_checkpoints


def write_state(tune_dir: Path, checkpoints: dict[str, Path | None]) -> None:
    """A Tune experiment state file with one trial per entry, its latest checkpoint as given,
    serialized the way Tune writes it (a real checkpoint manager, cloudpickled in the JSON)."""
    from ray.train import Checkpoint, CheckpointConfig
    from ray.train._internal.checkpoint_manager import _CheckpointManager, _TrainingResult
    from ray.tune.utils.serialization import TuneFunctionEncoder

    rows = []
    for trial_id, path in checkpoints.items():
        manager = _CheckpointManager(CheckpointConfig(num_to_keep=1))
        if path is not None:
            manager.register_checkpoint(_TrainingResult(Checkpoint(str(path)), {"epoch": 1}))
        rows.append([json.dumps({"trial_id": trial_id}),
                     json.dumps({"checkpoint_manager": manager}, cls=TuneFunctionEncoder)])
    tune_dir.mkdir(parents=True, exist_ok=True)
    (tune_dir / "experiment_state-2026-12-01_10-00-00.json").write_text(json.dumps({
        "trial_data": rows, "runner_data": {}, "stats": {}}))


def test_a_deleted_checkpoint_is_replaced_by_the_trials_newer_one(tmp_path: Path) -> None:
    tune = tmp_path / "tune"
    behind, whole, gone = (tune / f"train_{t}_1" for t in ("a", "b", "c"))
    for folder, index in ((behind, 3), (whole, 2)):
        (folder / f"checkpoint_00000{index}").mkdir(parents=True)
        (folder / f"checkpoint_00000{index}" / "state.pt").write_bytes(bytes([index]))
    gone.mkdir(parents=True)
    # the state was saved one report behind trial a; b matches; c has nothing left; d none
    write_state(tune, {"a": behind / "checkpoint_000002", "b": whole / "checkpoint_000002",
                       "c": gone / "checkpoint_000000", "d": None})
    assert set(latest_checkpoints(next(tune.glob("experiment_state-*")))) == {"a", "b", "c"}

    lines = repair_missing_checkpoints(tune)

    assert (behind / "checkpoint_000002" / "state.pt").read_bytes() == bytes([3])
    assert (behind / "checkpoint_000003" / "state.pt").read_bytes() == bytes([3])
    assert sorted(p.name for p in whole.iterdir()) == ["checkpoint_000002"]
    assert lines == [
        "trial a: checkpoint_000002 was deleted after the last save of the search state; "
        "resuming from checkpoint_000003",
        "trial c: checkpoint_000000 is gone and no other checkpoint is left; Tune will fail "
        "the trial"]
    assert repair_missing_checkpoints(tune) == [lines[1]]  # a is whole now


def test_a_moved_search_folder_is_repaired_under_its_new_path(tmp_path: Path) -> None:
    old, new = tmp_path / "old" / "tune", tmp_path / "new" / "tune"
    write_state(new, {"a": old / "train_a_1" / "checkpoint_000000"})
    (new / "train_a_1" / "checkpoint_000001").mkdir(parents=True)
    assert len(repair_missing_checkpoints(new)) == 1
    assert (new / "train_a_1" / "checkpoint_000000").is_dir() and not old.exists()
