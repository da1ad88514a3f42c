"""Repair what a killed driver can leave inconsistent in Tune's experiment state.

Tune keeps one checkpoint per trial (``runner.new_tuner``). When a trial reports a new one, Tune
registers it and deletes the one before in the same controller step, and then saves the
experiment state. A driver killed in between (a requeue or ``scancel`` takes the allocation, a
kill -9) leaves a state whose trial points at the deleted folder, and ``Tuner.restore`` then fails
that trial with "does not exist on storage anymore" on every attempt. The newer folder is there:
the trial's state was one report behind it. ``repair_missing_checkpoints`` copies it in under the
missing name, so the trial resumes from the newer checkpoint (its epochs in between were logged
to MLflow already) instead of failing.

Tune also writes its state files in place: the driver dumps them into a staging folder and a
background thread copies them over the ones in ``<search>/tune``. A driver killed during that
copy (the Slurm allocation ends, ``scancel``) leaves a file cut short, which ``Tuner.restore``
cannot read ("Expecting value: line 1 column 1"). ``StateSnapshot`` therefore keeps, in one
atomically replaced tar next to the Tune folder, the set of state files of the last save that
was complete, and ``repair_cut_state`` puts that set back where a file is cut.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

from ray.tune import Callback

STATE_GLOB = "experiment_state-*.json"
# every file a Tune save writes (controller, search generator, searcher, callbacks), one set per
# driver session; all but the first are cloudpickles, whatever the suffix
STATE_PATTERNS = (STATE_GLOB, "search_gen_state-*.json", "searcher-state-*.pkl",
                  "callback-states-*.pkl")
LAST_GOOD_SUFFIX = "-last-good.tar"  # tune-last-good.tar beside the Tune folder


def last_good(tune_dir: Path) -> Path:
    """The snapshot of a Tune folder's last whole state set: ``<tune_dir>-last-good.tar``
    beside it (``tune-last-good.tar``; ``tune-2-last-good.tar`` for an extension round)."""
    return Path(tune_dir).parent / f"{Path(tune_dir).name}{LAST_GOOD_SUFFIX}"
_SESSION = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d")


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


def state_files(folder: Path) -> list[Path]:
    """The Tune state files directly in ``folder`` (all sessions), sorted by name."""
    return sorted(f for pattern in STATE_PATTERNS for f in Path(folder).glob(pattern))


def whole(name: str, data: bytes) -> bool:
    """Whether ``data`` is a complete state file: JSON for the experiment state, else a pickle
    (read the way Tune reads it; these are the search's own files)."""
    import ray.cloudpickle as cloudpickle

    try:
        if name.startswith("experiment_state-"):
            json.loads(data)
        else:
            cloudpickle.loads(data)
    except Exception:  # any failure to read is a cut file
        return False
    return True


def session_of(name: str) -> str:
    """The driver session a state file belongs to (Tune's timestamp in its name)."""
    found = _SESSION.search(name)
    return found.group(0) if found else name


def write_snapshot(files: list[Path], tar_path: Path) -> None:
    """Put ``files`` into the tar ``tar_path``, replacing it in one step (tmp + rename)."""
    tar_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tar_path.with_name(f".{tar_path.name}.{os.getpid()}.tmp")
    with tarfile.open(tmp, "w") as tar:
        for f in files:
            tar.add(f, arcname=f.name)
    os.replace(tmp, tar_path)


def read_snapshot(tar_path: Path) -> dict[str, bytes]:
    """File name -> content of the last good set; empty when there is none or it is unreadable."""
    try:
        with tarfile.open(tar_path) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (OSError, tarfile.TarError):
        return {}


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def repair_cut_state(tune_dir: Path, tar_path: Path) -> list[str]:
    """Where a state file in ``tune_dir`` is cut short, put back its session's last whole set
    from ``tar_path``; with no such set, move that session's files aside (``*.cut``) so Tune
    restores from the session before. Returns one line per session repaired."""
    cut = {session_of(f.name) for f in state_files(tune_dir) if not whole(f.name, f.read_bytes())}
    if not cut:
        return []
    good = read_snapshot(tar_path)
    lines = []
    for session in sorted(cut):
        mine = [f for f in state_files(tune_dir) if session_of(f.name) == session]
        kept = {n: d for n, d in good.items() if session_of(n) == session and whole(n, d)}
        if any(n.startswith("experiment_state-") for n in kept):
            for name, data in kept.items():
                _replace(Path(tune_dir) / name, data)
            lines.append(f"search state of session {session} was cut off mid-write when the "
                         f"driver was killed; put back its last whole save from {tar_path.name}")
            continue
        for f in mine:
            f.rename(f.with_name(f.name + ".cut"))
        lines.append(f"search state of session {session} was cut off mid-write and no whole "
                     "copy was kept; set aside as *.cut, resuming from the session before")
    return lines


def _stamp(files: list[Path]) -> tuple[tuple[str, int, int], ...]:
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)


class StateSnapshot(Callback):
    """Copies Tune's state set into ``<search>/tune-last-good.tar`` after each controller step
    in which Tune saved it. Tune saves within the step, synchronously into its staging folder,
    before the callbacks' ``on_step_end``: the set read there is whole. The tar's place comes
    from the trials' storage, so a search folder that was moved keeps its copy beside it."""

    def __init__(self) -> None:
        self._seen: tuple = ()

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        if not trials:
            return
        storage = trials[0].storage
        files = state_files(Path(storage.experiment_driver_staging_path))
        try:
            stamp = _stamp(files)
        except FileNotFoundError:  # a file replaced meanwhile: the next step takes it
            return
        if stamp and stamp != self._seen:
            write_snapshot(files, last_good(Path(storage.experiment_fs_path)))
            self._seen = stamp
