"""The one ``--set KEY=VALUE`` parser of the CLI (train, estimate, search start, generate).

Values are YAML (``lr=0.1`` -> 0.1, ``kernel_sizes=[20, 5]`` -> [20, 5], ``padding=circular`` ->
"circular", ``global_pool=true`` -> True); a bare comma list is a list (``kpts=2,2,1`` ->
[2, 2, 1]).
"""

from __future__ import annotations

from typing import Any


class OverrideError(ValueError):
    """A malformed --set item; the message quotes it."""


def _value(text: str) -> Any:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OverrideError(f"cannot parse {text!r}: {exc}") from exc
    if isinstance(value, str) and "," in value and not value.startswith(("[", "{")):
        return [_value(part.strip()) for part in value.split(",")]
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        except ValueError:
            return value
    return value


def parse_sets(items: list[str], option: str = "--set") -> dict[str, Any]:
    """``["lr=0.1", "kpts=2,2,1"]`` -> ``{"lr": 0.1, "kpts": [2, 2, 1]}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise OverrideError(f"{option} {item!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = _value(text.strip())
        except OverrideError as exc:
            raise OverrideError(f"{option} {item!r}: {exc}") from exc
    return out
