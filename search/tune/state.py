"""Where a search keeps its state: ``<root>/<name>/`` (root = ``--root``, $MAGVOX_SEARCHES or
``./searches``). Everything needed to resume after a kill -9 lives there::

    <root>/mlflow.db            MLflow tracking store (SQLite) shared by all searches of the root
    <root>/mlartifacts/         MLflow artifacts (filters .npy and .png, best model)
    <root>/<name>/search.json   the resolved search: space, sampler, trials, dataset, MLflow ids
    <root>/<name>/optuna.db     Optuna storage (SQLite): the sampler's history, one study
    <root>/<name>/tune/         Ray Tune experiment (Tuner.restore reads it): trial states,
                                searcher snapshot, trial checkpoints with the trial's artifacts
    <root>/<name>/tune-2/ ...   the Tune experiment of each ``magvox search extend`` (a round):
                                same Optuna study, same MLflow experiment and parent run
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TUNE_NAME = "tune"


SEARCHES_ENV, SEARCHES_DIR = "MAGVOX_SEARCHES", "searches"
MLFLOW_DB = "mlflow.db"  # the SQLite MLflow store, under the searches root


def searches_root(root: str | Path | None = None) -> Path:
    """The folder holding all searches: ``root``, else $MAGVOX_SEARCHES, else ./searches."""
    return Path(root or os.environ.get(SEARCHES_ENV) or SEARCHES_DIR).resolve()


def default_tracking_uri(root: Path) -> str:
    """SQLite MLflow store under the searches root."""
    return f"sqlite:///{root / MLFLOW_DB}"


@dataclass
class SearchRecord:
    """The resolved search as written to ``search.json`` (what ``resume`` and ``best`` read).

    Attributes:
        name: search name (also the MLflow experiment name and the Optuna study name).
        space: the space as plain data (``Space.to_dict``), so a later edit of the file is harmless.
        space_source: the file the space came from.
        sampler: ``random`` or ``tpe``.
        trials: number of feasible trials to run.
        dataset: absolute path of the Zarr dataset.
        tracking_uri: MLflow tracking URI.
        experiment_id / parent_run_id: the MLflow experiment and the search's parent run.
        address: Ray address used last (None = a local cluster started by the driver).
        status: ``running``, ``finished`` or ``interrupted`` (as last written by the driver).
        extra: optional facts (final_seeds, warm_start, explain, Slurm job); ``rounds``: the
            trials of each round when the search was extended (``search.extend``), e.g. [6, 4].
    """

    name: str
    space: dict[str, Any]
    space_source: str
    sampler: str
    trials: int
    dataset: str
    tracking_uri: str
    experiment_id: str = ""
    parent_run_id: str = ""
    address: str | None = None
    status: str = "running"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchPaths:
    """Paths of one search's state folder."""

    root: Path
    name: str

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def record(self) -> Path:
        return self.folder / "search.json"

    @property
    def optuna_url(self) -> str:
        return f"sqlite:///{self.folder / 'optuna.db'}"

    def exists(self) -> bool:
        return self.record.is_file()


def rounds(record: SearchRecord) -> list[int]:
    """The trials of each round of the search: ``[trials]`` until it is extended."""
    return [int(n) for n in record.extra.get("rounds", [record.trials])]


def round_index(record: SearchRecord) -> int:
    """The current (last) round, 0 for the search as started."""
    return len(rounds(record)) - 1


def tune_name(record: SearchRecord) -> str:
    """The Tune experiment folder of the current round: ``tune``, then ``tune-2``, ..."""
    k = round_index(record)
    return TUNE_NAME if k == 0 else f"{TUNE_NAME}-{k + 1}"


def tune_dir(paths: SearchPaths, record: SearchRecord) -> Path:
    """The Tune experiment of the current round (what ``Tuner.restore`` reads)."""
    return paths.folder / tune_name(record)


def check_name(name: str) -> str:
    """A search name usable as a folder, an MLflow experiment and an Optuna study name."""
    if not NAME_RE.match(name):
        raise ValueError(f"search name {name!r}: use letters, digits, '_', '-', '.' (max 64)")
    return name


def save_record(paths: SearchPaths, record: SearchRecord) -> None:
    """Write ``search.json`` atomically (rename), so a kill -9 never leaves half a file."""
    paths.folder.mkdir(parents=True, exist_ok=True)
    tmp = paths.record.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2, default=str))
    tmp.replace(paths.record)


def load_record(paths: SearchPaths) -> SearchRecord:
    """Read ``search.json``; a missing search is an error naming the folder looked in."""
    if not paths.exists():
        known = sorted(p.parent.name for p in paths.root.glob("*/search.json"))
        raise FileNotFoundError(
            f"no search {paths.name!r} under {paths.root} (known: {', '.join(known) or 'none'})"
        )
    return SearchRecord(**json.loads(paths.record.read_text()))
