"""Repair what a killed driver can leave inconsistent in Tune's experiment state.

Tune keeps one checkpoint per trial (``runner.new_tuner``). When a trial reports a new one, Tune
registers it and deletes the one before in the same controller step, and then saves the
experiment state. A driver killed in between (a requeue or ``scancel`` takes the allocation, a
kill -9) leaves a state whose trial points at the deleted folder, and ``Tuner.restore`` then fails
that trial with "does not exist on storage anymore" on every attempt. The newer folder is there:
the trial's state was one report behind it. ``repair_missing_checkpoints`` copies it in under the
missing name, so the trial resumes from the newer checkpoint (its epochs in between were logged
to MLflow already) instead of failing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

STATE_GLOB = "experiment_state-*.json"


def newest_state(tune_dir: Path) -> Path | None:
    """The experiment state file ``Tuner.restore`` reads (the newest by its timestamped name)."""
    found = sorted(Path(tune_dir).glob(STATE_GLOB))
    return found[-1] if found else None


def latest_checkpoints(state_file: Path) -> dict[str, str]:
    """Trial id -> its latest registered checkpoint path, as the state file records them.

    The state is the search's own file, written by its driver; its checkpoint managers are
    cloudpickled by Tune and read back here the way ``Tuner.restore`` reads them."""
    from ray.tune.utils.serialization import TuneFunctionDecoder

    state = json.loads(Path(state_file).read_text())
    out = {}
    for trial_json, meta_json in state["trial_data"]:
        trial = json.loads(trial_json, cls=TuneFunctionDecoder, allow_cloudpickle=True)
        meta = json.loads(meta_json, cls=TuneFunctionDecoder, allow_cloudpickle=True)
        latest = meta["checkpoint_manager"].latest_checkpoint_result
        if latest is not None and latest.checkpoint is not None:
            out[str(trial["trial_id"])] = str(latest.checkpoint.path)
    return out


def repair_missing_checkpoints(tune_dir: Path) -> list[str]:
    """Copy each trial's newest checkpoint folder in under the name its state points at, where
    that folder is gone; returns one line per repaired trial. The trial folder is looked up under
    ``tune_dir`` by name, so a search folder that was moved is repaired as well."""
    state_file = newest_state(tune_dir)
    if state_file is None:
        return []
    repaired = []
    for trial_id, recorded in latest_checkpoints(state_file).items():
        path = Path(recorded)
        wanted = Path(tune_dir) / path.parent.name / path.name
        if wanted.exists():
            continue
        newer = sorted(wanted.parent.glob("checkpoint_*"))
        if not newer:
            repaired.append(f"trial {trial_id}: {wanted.name} is gone and no other checkpoint "
                            "is left; Tune will fail the trial")
            continue
        shutil.copytree(newer[-1], wanted)
        repaired.append(f"trial {trial_id}: {wanted.name} was deleted after the last save of "
                        f"the search state; resuming from {newer[-1].name}")
    return repaired
