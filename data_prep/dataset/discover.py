"""Finding sources for ``magvox prep``: run folders and loose volumetric files.

A *VASP run folder* holds CHGCAR (or .gz/.bz2/.xz); a *magvox run folder* holds magvox_run.json
(composite and configuration from it; a failed run may lack CHGCAR). Any other file whose name is a
volumetric format is a *loose file*. Composite and configuration of the others come from the path:
the default layout is ``<composite>/<configuration>/CHGCAR``; ``--pattern`` gives another, e.g.
``"{composite}_{configuration}/CHGCAR*"`` or ``"runs/{composite}/{configuration}.vasp"``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from data_prep import CONFIGURATIONS, DEFAULT_PATTERN
from data_prep.errors import MagvoxInputError
from data_prep.io.outputs import find_output
from data_prep.io.run_record import RUN_JSON, read_run_record
from data_prep.io.volumetric import is_volumetric_name


@dataclass(frozen=True)
class Source:
    """One thing to prepare. kind: "magvox" | "vasp" | "file". volumetric: None for a failed run."""

    kind: str
    path: str
    volumetric: str | None
    composite: str | None
    configuration: str | None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """``{name}`` fields and ``*`` globs -> a regex anchored at the end of the path."""
    out = []
    for token in re.split(r"(\{\w+\}|\*)", pattern):
        if token == "*":
            out.append("[^/]*")
        elif token.startswith("{") and token.endswith("}"):
            out.append(f"(?P<{token[1:-1]}>[^/]+)")
        else:
            out.append(re.escape(token))
    return re.compile("(?:^|/)" + "".join(out) + "$")


def names_from_path(path: Path, pattern: str = DEFAULT_PATTERN) -> tuple[str | None, str | None]:
    """(composite, configuration) from a file path; (None, None) when the pattern does not fit.

    With the default pattern the configuration must be a known one (NM, FM, AFM-...).
    """
    match = _pattern_regex(pattern).search(path.resolve().as_posix())
    if not match:
        return None, None
    found = match.groupdict()
    composite, configuration = found.get("composite"), found.get("configuration")
    if pattern == DEFAULT_PATTERN and configuration not in CONFIGURATIONS:
        return None, None
    return composite, configuration


def _run_folder(folder: Path, pattern: str) -> Source | None:
    chg = find_output(folder, "CHGCAR")
    meta_path = folder / RUN_JSON
    if meta_path.is_file():
        try:
            meta = read_run_record(meta_path)
        except MagvoxInputError:  # named in the reason when the run is read (sample._check_run)
            meta = {}
        return Source("magvox", str(folder), str(chg) if chg else None,
                      meta.get("composite"), meta.get("configuration"))
    if chg is None:
        return None
    composite, configuration = names_from_path(chg, pattern)
    return Source("vasp", str(folder), str(chg), composite, configuration)


def discover(sources: list[str | Path], pattern: str = DEFAULT_PATTERN) -> list[Source]:
    """All sources under the given files and folders (recursively), sorted by path."""
    found: dict[str, Source] = {}
    for src in map(Path, sources):
        if src.is_file():
            comp, conf = names_from_path(src, pattern)
            found[str(src)] = Source("file", str(src), str(src), comp, conf)
            continue
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = sorted(d for d in dirnames if not d.endswith(".zarr"))
            folder = Path(dirpath)
            run = _run_folder(folder, pattern)
            if run is not None:
                found[run.path] = run
                continue
            for name in sorted(filenames):
                if is_volumetric_name(name):
                    comp, conf = names_from_path(folder / name, pattern)
                    found[str(folder / name)] = Source("file", str(folder / name),
                                                       str(folder / name), comp, conf)
    return sorted(found.values(), key=lambda s: s.path)
