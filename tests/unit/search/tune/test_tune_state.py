"""A search state one checkpoint behind its folders (the driver killed between Tune deleting a
trial's old checkpoint and saving the state) is repaired before ``Tuner.restore``."""

from __future__ import annotations

import json
from pathlib import Path

from search.tune.tune_state import latest_checkpoints, repair_missing_checkpoints


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


def write_session(folder: Path, session: str, trials: int) -> dict[str, bytes]:
    """One Tune save set (experiment state, searcher, callbacks) of a driver session."""
    import ray.cloudpickle as cloudpickle

    folder.mkdir(parents=True, exist_ok=True)
    files = {f"experiment_state-{session}.json": json.dumps({"trial_data": [], "n": trials}),
             f"searcher-state-{session}.pkl": cloudpickle.dumps({"trials": trials}),
             f"callback-states-{session}.pkl": cloudpickle.dumps([None])}
    out = {}
    for name, data in files.items():
        data = data.encode() if isinstance(data, str) else data
        (folder / name).write_bytes(data)
        out[name] = data
    return out


def test_a_state_cut_mid_write_is_put_back_from_the_last_whole_save(tmp_path: Path) -> None:
    from search.tune.tune_state import repair_cut_state, state_files, write_snapshot

    staging, tune = tmp_path / "staging", tmp_path / "search" / "tune"
    tar = tmp_path / "search" / "tune-last-good.tar"
    good = write_session(staging, "2026-12-02_08-00-00", trials=3)
    write_snapshot(state_files(staging), tar)
    newer = write_session(tune, "2026-12-02_08-00-00", trials=4)
    assert repair_cut_state(tune, tar) == []  # whole files are left as they are
    assert {f.name: f.read_bytes() for f in state_files(tune)} == newer
    # the kill cut the copy: the JSON empty, the searcher pickle half written
    state, searcher = (tune / n for n in sorted(newer) if not n.startswith("callback"))
    state.write_bytes(b"")
    searcher.write_bytes(newer[searcher.name][:10])

    lines = repair_cut_state(tune, tar)

    assert {f.name: f.read_bytes() for f in state_files(tune)} == good  # the whole set, as one
    assert json.loads(state.read_text())["n"] == 3
    assert len(lines) == 1 and "2026-12-02_08-00-00 was cut off mid-write" in lines[0]
    assert not list(tune.glob(".*.tmp"))


def test_a_cut_state_with_no_whole_copy_falls_back_to_the_session_before(tmp_path: Path) -> None:
    from search.tune.tune_state import newest_state, repair_cut_state

    tune = tmp_path / "tune"
    write_session(tune, "2026-12-02_08-00-00", trials=2)
    write_session(tune, "2026-12-02_09-00-00", trials=5)
    (tune / "experiment_state-2026-12-02_09-00-00.json").write_text('{"trial_data": [')

    lines = repair_cut_state(tune, tmp_path / "tune-last-good.tar")  # no copy was kept

    assert newest_state(tune).name == "experiment_state-2026-12-02_08-00-00.json"
    assert sorted(p.name for p in tune.glob("*.cut")) == [
        "callback-states-2026-12-02_09-00-00.pkl.cut",
        "experiment_state-2026-12-02_09-00-00.json.cut",
        "searcher-state-2026-12-02_09-00-00.pkl.cut"]
    assert lines == ["search state of session 2026-12-02_09-00-00 was cut off mid-write and no "
                     "whole copy was kept; set aside as *.cut, resuming from the session before"]
