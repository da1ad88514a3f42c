"""`magvox generate` with the real GPAW at fast settings: live progress and the J1-J3 mapping.

Fast settings (single-zeta basis, h = 0.3 A, 2x2x1 k-points) keep each SCF under a minute here,
the rectangular cell included; Cr2Ge2Te6 stays a ferromagnet (J1 > 0).
"""

from __future__ import annotations

import csv
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_prep.dft.progress import ERASE_LINE

pytestmark = pytest.mark.gpaw

FAST = ["--set", "basis=sz(dzp)", "--set", "h=0.3", "--set", "kpts=2,2,1"]
CGT = ["--a2", "Cr", "--b", "GeGe", "--x", "Te"]
J_CONFIGS = ["FM", "AFM-Neel", "AFM-zigzag", "AFM-stripy"]
SETUPS = os.environ.get("GPAW_SETUP_PATH", "/usr/share/gpaw-setups")
ENV = {**os.environ, "GPAW_SETUP_PATH": SETUPS, "COLUMNS": "300"}


def generate_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "search.commands.cli", "generate", "--out", str(out), *CGT,
            *FAST, *extra]


def run_on_a_terminal(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal; (exit code, everything written)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=slave, stderr=slave, env=ENV)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


def test_terminal_shows_a_status_line_redrawn_in_place(tmp_path):
    code, out = run_on_a_terminal(generate_cmd(tmp_path, "--configs", "FM", "--num-cpus", "1"))
    assert code == 0, out
    draws = [d for d in out.split(ERASE_LINE)[1:] if "Cr2Ge2Te6/FM SCF" in d]
    assert len(draws) >= 3, out  # redrawn while the SCF ran (one run: ~15-50 s, every 2 s)
    iterations = [int(re.search(r"SCF (\d+)", d).group(1)) for d in draws]
    assert iterations == sorted(iterations) and iterations[-1] > iterations[0]
    assert re.search(r"\[0/1 done, 0 failed, time left \?\] Cr2Ge2Te6/FM SCF \d+ dE [-+]", out)
    assert re.search(r"\[1/1\] Cr2Ge2Te6/FM  E=-\d+\.\d+ eV  M=\d", out)
    assert not list(tmp_path.rglob("progress.json"))  # published runs carry no progress file


@pytest.fixture(scope="module")
def j_campaign(tmp_path_factory) -> tuple[Path, str, float]:
    """The four rectangular-cell runs of Cr2Ge2Te6, logged to a pipe: (root, stdout, seconds)."""
    runs = tmp_path_factory.mktemp("jruns")
    start = time.monotonic()
    res = subprocess.run(generate_cmd(runs, "--cell", "rectangular", "--configs", *J_CONFIGS,
                                      "--num-cpus", "2", "--heartbeat", "4"),
                         capture_output=True, text=True, env=ENV)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    return runs, res.stdout, time.monotonic() - start


def test_log_file_gets_a_heartbeat_per_run_not_a_flood(j_campaign):
    _, out, elapsed = j_campaign
    assert "\r" not in out and "\x1b" not in out
    for conf in J_CONFIGS:
        beats = [ln for ln in out.splitlines() if f"running Cr2Ge2Te6/{conf} " in ln]
        assert 1 <= len(beats) <= elapsed / 4 + 1, out
        assert all(re.search(r"SCF \d+|setup|writing", b) for b in beats)
    assert len(out.splitlines()) <= 2 + len(J_CONFIGS) * (elapsed / 4 + 2)


def test_rectangular_cell_mapping_makes_cr2ge2te6_ferromagnetic(j_campaign, tmp_path):
    runs = j_campaign[0]
    table = tmp_path / "exchange.csv"
    subprocess.run([sys.executable, "-m", "data_prep.analysis.exchange_labels", str(runs), "--out",
                    str(table)], check=True, env=ENV)  # fmt: skip
    (row,) = csv.DictReader(table.open())
    assert row["status"] == "ok" and row["kpts"] == "2,1,1"  # one k-mesh for all four
    energies = {c: float(row[f"E_{c}_eV"]) for c in J_CONFIGS}
    assert min(energies, key=energies.get) == "FM"  # CrGeTe3 is a ferromagnet
    assert float(row["J1_meV"]) > 1.0
    assert abs(float(row["J2_meV"])) < float(row["J1_meV"])
    assert float(row["residual_meV"]) < 1e-6  # four equations, four unknowns
