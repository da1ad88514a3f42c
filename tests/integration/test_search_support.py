"""Helpers for the search integration tests (no tests here): a tiny dataset written through
data_prep's API, a tiny space, and running the real ``magvox`` CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

GRID = (8, 8, 16)
A2 = ("V", "Mn", "Fe", "Co", "Ni", "Ti", "Cu", "Nb")
B_PAIRS = ("Ge2", "GeSi")
TINY_SPACE = {
    "settings": {"metric": "val_balanced_accuracy", "mode": "max", "trials": 4,
                 "cpus_per_trial": 1, "grace_epochs": 1, "reduction_factor": 2,
                 "max_memory_mb": 500},
    "fixed": {"preset": "seed-small", "target": "ground_state", "epochs": 2,
              "tiling": [1, 1, 1], "dense": [], "backend": "direct", "val_fraction": 0.4},
    "params": {
        "depth": {"type": "int", "low": 1, "high": 2},
        "conv_filters": {"type": "int", "low": 1, "high": 3, "per_layer": True},
        "kernel_sizes": {"type": "categorical", "choices": [2, 3], "per_layer": True},
        "strides": {"type": "categorical", "choices": [1], "per_layer": True},
        "pool_sizes": {"type": "categorical", "choices": [1, 2], "per_layer": True},
        "lr": {"type": "float", "low": 0.01, "high": 1.0, "log": True},
        "batch_size": {"type": "categorical", "choices": [4, 8]},
    },
}


def free_port() -> int:
    """A TCP port free on this machine right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SITE_ORDER = ("A1", "A2", "B1", "B2", "X", "X", "X", "X", "X", "X")
TINY_ATOMS = [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5], [0, 0, 0.44], [0, 0, 0.56],
              [1 / 3, 0, 0.42], [0, 1 / 3, 0.42], [2 / 3, 2 / 3, 0.42],
              [2 / 3, 0, 0.58], [0, 2 / 3, 0.58], [1 / 3, 1 / 3, 0.58]]


def write_tiny_dataset(path: Path, composites: int = 12, seed: int = 0) -> Path:
    """A magvox Zarr dataset on an 8x8x16 grid: FM and AFM-Neel runs of ``composites`` made-up
    compounds with the atoms of a Cr2Ge2Te6-like cell; FM ground state (label 1) when the FM
    density has a positive bump."""
    from data_prep.composite import parse_composite
    from data_prep.dataset.store import create_store, rebuild_tables, write_sample

    rng = np.random.default_rng(seed)
    create_store(path, train_grid=GRID)
    for i in range(composites):
        fm = i % 2 == 0
        comp = f"Cr{A2[i % len(A2)]}{B_PAIRS[i // len(A2) % 2]}Te6"
        for conf, energy in (("FM", -1.0 if fm else -0.9), ("AFM-Neel", -0.95)):
            spin = rng.normal(0, 0.01, GRID).astype(np.float32)
            spin[2:5, 2:5, 6:10] += 0.2 if (fm and conf == "FM") else -0.05
            row = {"sample_id": f"{comp}_{conf}", "composite": comp, "configuration": conf,
                   "energy_eV": energy, "moment_uB": 6.0 if fm else 2.0,
                   "moment_reported_uB": 6.0 if fm else 2.0, "volume_A3": 800.0,
                   "lattice_A": [6.8, 0, 0, -3.4, 5.889, 0, 0, 0, 20.0],
                   "species": [parse_composite(comp)[s] for s in SITE_ORDER],
                   "frac_coords": TINY_ATOMS}
            write_sample(path, row["sample_id"], row, spin, spin)
    rebuild_tables(path)
    return path


def write_space(path: Path, **settings: object) -> Path:
    """The tiny space as YAML with ``settings`` overridden."""
    space = {**TINY_SPACE, "settings": {**TINY_SPACE["settings"], **settings}}
    path.write_text(yaml.safe_dump(space))
    return path


def magvox(*args: str, cwd: Path, timeout: float = 240, check: bool = True,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``magvox ARGS`` (the real console entry) in ``cwd``; output captured as text."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "search.commands.cli", *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=full_env)
    if check and done.returncode != 0:
        raise AssertionError(f"magvox {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done


def completed_trials(root: Path, name: str,
                     statuses: tuple[str, ...] = ("completed",)) -> dict[str, int]:
    """trial id -> number of val_loss points, for the search's trial runs in MLflow whose status
    is one of ``statuses`` (completed; ``("completed", "pruned")``: every trial that ended)."""
    import sqlite3

    db = root / "mlflow.db"
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=30) as con:
            rows = con.execute(
                "SELECT t.value, (SELECT COUNT(*) FROM metrics m WHERE m.run_uuid = t.run_uuid"
                " AND m.key = 'val_loss') FROM tags t JOIN tags s ON s.run_uuid = t.run_uuid"
                " JOIN runs r ON r.run_uuid = t.run_uuid JOIN experiments e"
                " ON e.experiment_id = r.experiment_id WHERE t.key = 'magvox.trial_id'"
                " AND s.key = 'magvox.status' AND s.value IN"
                f" ({', '.join('?' * len(statuses))}) AND e.name = ?", (*statuses, name)
            ).fetchall()
    except sqlite3.OperationalError:  # store still being created by the driver
        return {}
    return {trial: n for trial, n in rows}


def optuna_trials(folder: Path) -> dict[int, tuple[str, dict]]:
    """Optuna trial number -> (state, params) from the search's study."""
    import optuna

    study = optuna.load_study(study_name=folder.name, storage=f"sqlite:///{folder / 'optuna.db'}")
    return {t.number: (t.state.name, t.params) for t in study.get_trials(deepcopy=False)}


def start_background(args: list[str], cwd: Path, log: Path,
                     env: dict | None = None) -> subprocess.Popen:
    """``magvox ARGS`` as a background process in its own session (so kill -9 hits only it)."""
    cmd = [sys.executable, "-m", "search.commands.cli", *args]
    full_env = {**(env or os.environ), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True, env=full_env)


def wait_until(predicate, timeout: float, proc: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    """Poll ``predicate`` every 0.3 s; fail on timeout or if ``proc`` exits first."""
    import time

    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log else ""
            raise AssertionError(f"process exited ({proc.returncode}) too early:\n{tail}")
        time.sleep(0.3)
    raise AssertionError(f"condition not met in {timeout} s")
