"""Reading raw bytes of possibly compressed files (.gz, .bz2, .xz) with clear errors; writing a
text file atomically."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import zlib
from pathlib import Path

from data_prep.errors import MagvoxInputError

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSIONS = tuple(_OPENERS)


def strip_compression(name: str) -> str:
    """File name without a .gz/.bz2/.xz suffix."""
    for ext in COMPRESSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def read_bytes(path: str | Path) -> bytes:
    """The file's content, decompressed by suffix; MagvoxInputError if missing, empty, corrupt."""
    path = Path(path)
    opener = _OPENERS.get(path.suffix.lower())
    try:
        if opener is None:
            data = path.read_bytes()
        else:
            with opener(path, "rb") as fh:
                data = fh.read()
    except FileNotFoundError:
        raise MagvoxInputError(path, "file not found") from None
    except IsADirectoryError:
        raise MagvoxInputError(path, "is a directory, expected a file") from None
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        kind = path.suffix.lstrip(".") or "file"
        raise MagvoxInputError(path, f"corrupt or truncated {kind} stream: {exc}") from None
    if not data.strip():
        raise MagvoxInputError(path, "file is empty")
    return data


def sha256_hex(data: bytes) -> str:
    """SHA-256 of the (decompressed) content: the same data gzipped or not has the same hash."""
    return hashlib.sha256(data).hexdigest()


def folder_notes(folder: str | Path) -> str:
    """The stripped text of ``folder/NOTES.md`` (hand-written remarks a generated table or card
    carries below itself, e.g. what else was tried for a failed run), or '' when absent."""
    notes = Path(folder) / "NOTES.md"
    return notes.read_text().strip() if notes.is_file() else ""


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so a
    kill never leaves half a file; -> the path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
