"""Errors a user can act on: every message names the file and what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class MagvoxInputError(ValueError):
    """An input file is unreadable or would give a wrong array.

    ``path`` is the offending file, ``reason`` says what is wrong (and where, when known).
    ``str(err)`` is ``"<path>: <reason>"``, ready for a log line or rejected.csv.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
