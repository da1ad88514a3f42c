"""Live progress of `magvox generate`: the worker's progress file and the driver's rendering."""

from __future__ import annotations

import io
import json
import os
import time
from types import SimpleNamespace

import pytest

from data_prep.dft.progress import (
    ERASE_LINE,
    LiveReporter,
    describe_run,
    describe_totals,
    read_in_flight,
)
from data_prep.dft.run_progress import HARTREE_EV, PROGRESS_JSON, ProgressWriter, watch_scf

SCF = {"phase": "scf", "started": 1000.0, "scf_iteration": 12, "energy_change_eV": -3.1e-4,
       "log10_density_error": -3.24}  # fmt: skip


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_describe_a_run_in_each_phase():
    assert describe_run("Cr2Ge2Te6/FM", SCF, 1070.0) == (
        "Cr2Ge2Te6/FM SCF 12 dE -3.1e-04 eV log10 drho -3.2 (1:10)")  # fmt: skip
    relax = {**SCF, "phase": "relax", "relax_step": 3, "max_force_eV_per_A": 0.1234}
    assert "relax 3 fmax 0.123 eV/A SCF 12" in describe_run("X/FM", relax, 1000.0)
    setup = {"phase": "setup", "started": 0.0}
    assert describe_run("X/FM", setup, 3725.0) == "X/FM setup (1:02:05)"
    assert describe_run("X/FM", {**SCF, "phase": "writing"}, 1001.0) == "X/FM writing (0:01)"


@pytest.mark.parametrize(
    ("left", "text"), [(None, "time left ?"), (3120.0, "~52 min left"), (7200.0, "~2.0 h left")]
)
def test_totals(left, text):
    assert describe_totals(3, 1, 110, left) == f"[3/110 done, 1 failed, {text}]"


def test_terminal_status_line_is_redrawn_in_place_and_throttled(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out, clock = io.StringIO(), Clock()
    rep = LiveReporter(out, tty=True, refresh_s=2.0, clock=clock)
    runs = {"Cr2Ge2Te6/FM": SCF}
    rep.status("[0/2 done]", runs, now_s=1010.0)
    first = out.getvalue()
    line = "Cr2Ge2Te6/FM SCF 12 dE -3.1e-04 eV log10 drho -3.2"
    assert first == f"{ERASE_LINE}[0/2 done] {line} (0:10)"
    clock.t = 1.0
    rep.status("[0/2 done]", runs, now_s=1011.0)
    assert out.getvalue() == first  # too soon: nothing drawn
    clock.t = 2.5
    rep.status("[0/2 done]", {"Cr2Ge2Te6/FM": {**SCF, "scf_iteration": 13}}, now_s=1012.0)
    drawn = f"{ERASE_LINE}[0/2 done] Cr2Ge2Te6/FM SCF 13"
    assert out.getvalue().count(ERASE_LINE) == 2 and drawn in out.getvalue()
    rep.line("[1/2] Cr2Ge2Te6/FM  E=-49.9 eV")  # a permanent line, then the status line again
    line = line.replace("SCF 12", "SCF 13")
    assert out.getvalue().endswith(
        f"{ERASE_LINE}[1/2] Cr2Ge2Te6/FM  E=-49.9 eV\n[0/2 done] {line} (0:12)")  # fmt: skip
    rep.close()
    assert out.getvalue().endswith(ERASE_LINE) and "\n" not in out.getvalue().split("\n")[-1]


def test_terminal_status_line_fits_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    out = io.StringIO()
    LiveReporter(out, tty=True).status("[0/9 done]", {"A/FM": SCF, "B/FM": SCF}, now_s=1000.0)
    line = out.getvalue().removeprefix(ERASE_LINE)
    assert len(line) == 39 and line.endswith("...")


def test_log_file_gets_finished_lines_and_a_throttled_heartbeat():
    """Five minutes with two runs in flight, polled every 2 s: five heartbeats each, no redraws."""
    out, clock = io.StringIO(), Clock()
    rep = LiveReporter(out, tty=False, heartbeat_s=60.0, clock=clock)
    for step in range(151):  # 0 .. 300 s
        clock.t = 2.0 * step
        runs = {"A/FM": SCF, "B/FM": SCF} if clock.t < 300 else {"B/FM": SCF}
        rep.status("[0/2 done]", runs, now_s=1000.0 + clock.t)
        if step == 100:
            rep.line("[1/3] C/FM  E=-1.0 eV")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    beats = [ln for ln in lines if " running " in ln]
    assert len(beats) == 9  # A at 60..240 s (4; gone at 300 s), B at 60..300 s (5)
    assert sum("A/FM" in b for b in beats) == 4 and sum("B/FM" in b for b in beats) == 5
    assert beats[0] == "[0/2 done] running A/FM SCF 12 dE -3.1e-04 eV log10 drho -3.2 (1:00)"
    assert "[1/3] C/FM  E=-1.0 eV" in lines
    clock.t = 330.0
    rep.status("[0/2 done]", {"B/FM": SCF}, now_s=1330.0)  # 30 s after its last one: none
    rep.status("[0/2 done]", {"C/FM": SCF}, now_s=1330.0)  # a new run: first beat after 60 s
    assert len(out.getvalue().splitlines()) == len(lines)


def _progress(root, comp, conf, pid, state, age_s=0.0):
    folder = root / comp / f".{conf}.tmp-{pid}"
    folder.mkdir(parents=True)
    path = folder / PROGRESS_JSON
    path.write_text(state if isinstance(state, str) else json.dumps(state))
    if age_s:
        os.utime(path, (time.time() - age_s, time.time() - age_s))


def test_read_in_flight_takes_fresh_files_of_wanted_runs(tmp_path):
    start = time.time() - 100
    fresh = {"composite": "CrV", "configuration": "FM", "updated": 5.0, "scf_iteration": 4}
    _progress(tmp_path, "CrV", "FM", 11, fresh)
    _progress(tmp_path, "CrV", "FM", 12, {**fresh, "updated": 1.0})  # an older attempt's file
    _progress(tmp_path, "CrV", "AFM-Neel", 13, {**fresh, "configuration": "AFM-Neel"}, age_s=500)
    _progress(tmp_path, "CrMn", "FM", 14, "{half a fi")
    _progress(tmp_path, "CrCo", "FM", 15, {**fresh, "composite": "CrCo"})
    wanted = {"CrV/FM", "CrV/AFM-Neel", "CrMn/FM"}
    assert read_in_flight(tmp_path, wanted, start) == {"CrV/FM": fresh}


def test_worker_writes_scf_and_relaxation_steps_atomically(tmp_path):
    writer = ProgressWriter(tmp_path, {"composite": "CrV", "configuration": "FM"})
    state = lambda: json.loads((tmp_path / PROGRESS_JSON).read_text())  # noqa: E731
    assert state()["phase"] == "setup"
    writer.scf_step(1, -100.0, float("inf"))  # GPAW's first iteration has no density change
    writer.update(force=True)
    assert state()["log10_density_error"] is None and state()["energy_change_eV"] is None
    writer.scf_step(1, -100.0, 1e-2)
    writer.update(force=True)
    writer.scf_step(2, -100.5, 1e-3)
    writer.update(force=True)
    assert state()["scf_iteration"] == 2 and state()["energy_change_eV"] == pytest.approx(-0.5)
    assert state()["log10_density_error"] == pytest.approx(-3.0)
    writer.relax_step(1, 0.25)
    writer.scf_step(1, -100.7, None)
    writer.update(force=True)
    s = state()
    assert s["phase"] == "relax" and s["relax_step"] == 1 and s["energy_change_eV"] is None
    assert [p.name for p in tmp_path.iterdir()] == [PROGRESS_JSON]  # no temporary left behind
    writer.close()
    assert not list(tmp_path.iterdir())


def test_worker_writes_at_most_once_a_second(tmp_path):
    writer = ProgressWriter(tmp_path, {"composite": "CrV", "configuration": "FM"},
                            min_interval_s=3600.0)  # fmt: skip
    for i in range(1, 50):
        writer.scf_step(i, -1.0 * i, 1e-3)
    assert "scf_iteration" not in json.loads((tmp_path / PROGRESS_JSON).read_text())


def test_gpaw_scf_hook_reports_energy_in_eV_and_density_error_per_electron(tmp_path):
    writer = ProgressWriter(tmp_path, {"composite": "CrV", "configuration": "FM"})
    calc = SimpleNamespace(hooks={})
    assert watch_scf(calc, writer)
    ctx = SimpleNamespace(niter=7, ham=SimpleNamespace(e_total_extrapolated=-2.0),
                          dens=SimpleNamespace(error=0.01),
                          wfs=SimpleNamespace(nvalence=100))  # fmt: skip
    calc.hooks["scf_step"](ctx)
    writer.update(force=True)
    s = json.loads((tmp_path / PROGRESS_JSON).read_text())
    assert s["scf_iteration"] == 7 and s["energy_eV"] == pytest.approx(-2.0 * HARTREE_EV)
    assert s["log10_density_error"] == pytest.approx(-4.0)
    assert not watch_scf(object(), writer)
