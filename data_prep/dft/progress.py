"""What ``magvox generate`` shows while a campaign computes: the runs in flight and the totals.

On a terminal: one status line redrawn in place (carriage return + ANSI erase-line) every
``refresh_s`` seconds, e.g.::

    [3/110 done, 0 failed, ~52 min left] CrVGe2Te6/FM SCF 12 dE -3.1e-04 eV log10 drho -3.2 (1:10)

with a permanent line above it for every run that ends. When the output is not a terminal (a log
file), only the permanent lines plus a heartbeat: one line per run in flight every
``heartbeat_s`` seconds at most (60 by default), so a log never floods.

The state of each run comes from the ``progress.json`` its worker keeps in the run's temporary
folder (``data_prep.dft.run_progress``), read with ``read_in_flight``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from data_prep.dft.run_progress import PROGRESS_JSON

HEARTBEAT_S = 60.0  # seconds between two heartbeat lines of one run in a log

ERASE_LINE = "\r\x1b[K"


def read_in_flight(root: Path, wanted: set[str], since: float) -> dict[str, dict]:
    """``composite/configuration`` -> latest progress state, for the ``wanted`` runs.

    Files older than ``since`` (Unix time, s: the campaign's start) are left-overs of killed
    attempts and ignored, as are files caught mid-replacement.
    """
    states: dict[str, dict] = {}
    for path in Path(root).glob(f"*/.*.tmp-*/{PROGRESS_JSON}"):
        try:
            if path.stat().st_mtime < since:
                continue
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        key = f"{state.get('composite')}/{state.get('configuration')}"
        if key in wanted and state.get("updated", 0) >= states.get(key, {}).get("updated", 0):
            states[key] = state
    return states


def _clock(seconds: float) -> str:
    """Seconds as m:ss or h:mm:ss."""
    s = int(max(seconds, 0))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def describe_run(key: str, state: dict[str, Any], now: float) -> str:
    """One run in flight: ``Cr2Ge2Te6/FM SCF 12 dE -3.1e-04 eV log10 drho -3.2 (1:10)``."""
    parts = [key]
    if state.get("relax_step") is not None:
        parts.append(f"relax {state['relax_step']} fmax {state['max_force_eV_per_A']:.3f} eV/A")
    if state.get("phase") == "writing":
        parts.append("writing")
    elif state.get("scf_iteration") is not None:
        parts.append(f"SCF {state['scf_iteration']}")
        if state.get("energy_change_eV") is not None:
            parts.append(f"dE {state['energy_change_eV']:+.1e} eV")
        if state.get("log10_density_error") is not None:
            parts.append(f"log10 drho {state['log10_density_error']:.1f}")
    else:
        parts.append(state.get("phase", "setup"))
    started = state.get("started")
    if started is not None:
        parts.append(f"({_clock(now - started)})")
    return " ".join(parts)


def describe_totals(done: int, failed: int, total: int, left_s: float | None) -> str:
    """``[3/110 done, 1 failed, ~52 min left]`` (``?`` until a run has finished)."""
    if left_s is None:
        left = "time left ?"
    elif left_s >= 5400:
        left = f"~{left_s / 3600:.1f} h left"
    else:
        left = f"~{left_s / 60:.0f} min left"
    return f"[{done}/{total} done, {failed} failed, {left}]"


class LiveReporter:
    """Permanent lines (``line``) and the live view (``status``) on one text stream.

    Args:
        stream: where to write (stdout by default).
        tty: redraw a status line in place (True) or write heartbeats (False); default: whether
            ``stream`` is a terminal.
        refresh_s: seconds between redraws of the status line (terminal).
        heartbeat_s: seconds between two heartbeat lines of one run (log file).
        clock: monotonic seconds (tests replace it).
    """

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None,
                 refresh_s: float = 2.0, heartbeat_s: float = HEARTBEAT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.refresh_s, self.heartbeat_s, self.clock = refresh_s, heartbeat_s, clock
        self._drawn = ""  # the status line on screen (terminal)
        self._last_draw = -float("inf")
        self._beats: dict[str, float] = {}  # run -> clock of its first sight or last heartbeat

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def line(self, text: str) -> None:
        """A permanent line (a run ended, a summary); the status line is redrawn below it."""
        if self.tty and self._drawn:
            self._write(f"{ERASE_LINE}{text}\n{self._drawn}")
        else:
            self._write(f"{text}\n")

    def status(self, totals: str, runs: dict[str, dict], now_s: float | None = None) -> None:
        """Show the runs in flight (``read_in_flight``) beside the totals, throttled."""
        now_s = time.time() if now_s is None else now_s
        tick = self.clock()
        if self.tty:
            if tick - self._last_draw >= self.refresh_s:
                self._last_draw = tick
                text = " ".join([totals, *(describe_run(k, s, now_s) for k, s in runs.items())])
                width = shutil.get_terminal_size((120, 24)).columns - 1
                self._drawn = text if len(text) <= width else text[: width - 3] + "..."
                self._write(f"{ERASE_LINE}{self._drawn}")
            return
        for key in list(self._beats):
            if key not in runs:
                del self._beats[key]
        for key, state in runs.items():
            last = self._beats.setdefault(key, tick)
            if tick - last >= self.heartbeat_s:
                self._beats[key] = tick
                self._write(f"{totals} running {describe_run(key, state, now_s)}\n")

    def close(self) -> None:
        """Erase the status line (terminal)."""
        if self.tty and self._drawn:
            self._write(ERASE_LINE)
            self._drawn = ""
