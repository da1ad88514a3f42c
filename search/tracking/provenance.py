"""Where a figure comes from: the date, the commit, the machine, the load and the command of a
measurement (benchmark records, assessment records), with machine paths made portable."""

from __future__ import annotations

import datetime
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:[\w.+-]+/)+[\w.+-]+")  # two parts at least


CODE = Path(__file__).resolve().parents[2]  # the checkout magvox runs from


def commit(cwd: str | Path = CODE) -> str:
    """Short hash of the code's HEAD, ``+dirty`` with uncommitted changes to tracked files;
    ``magvox <version>`` for an install outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=cwd, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"magvox {version('magvox')}"
        except PackageNotFoundError:
            return "unknown"
    return head + ("+dirty" if dirty else "")


def portable(text: str, base: str | Path | None = None) -> str:
    """``text`` with every absolute path made relative to ``base`` (default: the working dir)
    where it lies below it, else reduced to ``.../<its last two parts>``."""
    root = Path(base or os.getcwd()).resolve()

    def fix(match: re.Match[str]) -> str:
        path = Path(match.group(0))
        try:
            return str(path.resolve().relative_to(root)) or "."
        except ValueError:
            return ".../" + "/".join(path.parts[-2:])

    return ABSOLUTE_PATH.sub(fix, text)


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (``magvox ...``), paths made portable."""
    args = list(sys.argv[1:] if argv is None else argv)
    return portable("magvox " + shlex.join(args))


def load_average() -> float:
    """The 1-minute load average now."""
    return round(os.getloadavg()[0], 2)


def start(command: str | None = None) -> dict[str, Any]:
    """The provenance of a measurement that starts now (completed by ``write_record``)."""
    from models.bench import machine_info

    return {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ"),
            "commit": commit(), "machine": machine_info(), "load": [load_average()],
            "command": command or command_line()}
