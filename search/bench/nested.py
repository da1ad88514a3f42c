"""Tables of nested cross-validations (``magvox search assess``) for BENCHMARKS.md, read from
their records in ``data/assessments/<name>/`` (``assessment.json``, ``assessment.csv`` and the
``provenance`` block: date, commit, machine, load, command, wall time).

Three kinds: ``assessments`` (one row per assessment: the CNN's pooled score, its spread over
seeds, every baseline, the paired differences), ``per_x`` (one row per model with its score per
chalcogen, the baselines of one assessment below) and ``compare`` (paired differences between two
assessments on the same outer folds, overall and per X, ``search.evaluation.compare``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from search.bench.tables import NR, head, row

ASSESSMENTS_DIR = Path("data/assessments")


def read(name: str, root: str | Path = ASSESSMENTS_DIR) -> dict[str, Any]:
    """assessment.json of ``name``; FileNotFoundError / ValueError naming the file."""
    path = Path(root) / name / "assessment.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such assessment record")
    summary = json.loads(path.read_text())
    if "provenance" not in summary:
        raise ValueError(f"{path}: no provenance (date, commit, machine, command): a record "
                         "from before `magvox search assess` wrote one needs it added")
    return summary


def ci(v: list[float] | None, signed: bool = False) -> str:
    """'0.824 [0.763, 0.878]' ('+0.029 [-0.017, +0.087]' signed)."""
    if not v:
        return NR
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(v[0])} [{f.format(v[1])}, {f.format(v[2])}]"


def seeds(summary: dict[str, Any]) -> str:
    """'0.777 +- 0.020 (5 seeds)' over the per-seed pooled scores."""
    s = summary.get("seed_scores") or []
    if len(s) < 2:
        return NR
    return f"{np.mean(s):.3f} +- {np.std(s):.3f} ({len(s)} seeds)"


def wall(summary: dict[str, Any]) -> str:
    """The assessment's wall time as recorded ('23 min', or the text a backfilled record has)."""
    w = summary["provenance"].get("wall")
    if isinstance(w, (int, float)):
        return f"{w / 60:.0f} min"
    return w or NR


def made(summary: dict[str, Any]) -> str:
    """'2026-12-06 (3fec8e7)'."""
    p = summary["provenance"]
    return f"{p['date'][:10]} ({p['commit']})"


def assessments(rows: list[dict[str, Any]], root: str | Path = ASSESSMENTS_DIR) -> list[str]:
    """One row per assessment (``{"name", "label"}``; ``distinct: true`` adds the row of the
    composites whose two runs ended in distinct states)."""
    lines = head("input, search (per outer fold)", "CNN seed 0", "CNN, seeds", "majority",
                 "composition", "integrals of the input", "CNN - composition",
                 "CNN - integrals", "wall", "record (date, commit)")
    for spec in rows:
        summary = read(spec["name"], root)
        parts = [(spec["label"] + f" (`{spec['name']}`)", summary)]
        if spec.get("distinct"):
            d = summary.get("distinct_states")
            if d is None:
                raise ValueError(f"{spec['name']}: no distinct_states block (a one-run input?)")
            parts.append((f"same, the {d['kept']} with distinct FM and Neel states "
                          f"({d['collapsed']} collapsed pairs out)", d))
        for label, s in parts:
            sc, df = s["scores"], s["differences"]
            lines.append(row(label, ci(sc["cnn"]), seeds(s), ci(sc.get("majority")),
                             ci(sc.get("composition")), ci(sc.get("integrals")),
                             ci(df.get("composition"), True), ci(df.get("integrals"), True),
                             wall(summary) if s is summary else "(same run)", made(summary)))
    return lines


def per_x(spec: dict[str, Any], root: str | Path = ASSESSMENTS_DIR) -> list[str]:
    """Models as rows (``rows``: ``{"name", "label"}``), their pooled score, seeds and score per
    chalcogen; then the baselines of assessment ``baselines_from`` (same folds)."""
    summaries = [(r["label"] + f" (`{r['name']}`)", read(r["name"], root)) for r in spec["rows"]]
    base = read(spec["baselines_from"], root)
    xs = list(base["per_x"])
    lines = head("model", "seed 0", "seeds",
                 *(f"{x} ({base['per_x'][x]['n']})" for x in xs), "wall", "record")

    def at(s: dict[str, Any], x: str, model: str) -> str:
        group = s["per_x"].get(x, {})
        v = group.get("scores", {}).get(model)
        return f"{v[0]:.3f}" if v else NR

    for label, s in summaries:
        lines.append(row(label, ci(s["scores"]["cnn"]), seeds(s), *(at(s, x, "cnn") for x in xs),
                         wall(s), made(s)))
    for model, label in spec.get("baselines", {}).items():
        lines.append(row(label, ci(base["scores"][model]), "", *(at(base, x, model) for x in xs),
                         "", f"from `{spec['baselines_from']}`"))
    return lines


def compare(pairs: list[dict[str, Any]], root: str | Path = ASSESSMENTS_DIR) -> list[str]:
    """Paired differences (``first`` minus ``second``: another assessment on the same outer
    folds, bootstrapped here, or one of the first one's baselines ``composition`` /
    ``integrals`` / ``majority``, as its record holds them), overall and per X."""
    from search.evaluation.compare import BASELINE_COLUMNS, compare_assessments

    lines: list[str] = []
    for spec in pairs:
        first, other = spec["first"], spec["second"]
        if other in BASELINE_COLUMNS:
            s = read(first, root)
            overall, groups = s["differences"].get(other), s["per_x"]
            per = {x: g.get("differences", {}).get(other) for x, g in groups.items()}
        else:
            comp = compare_assessments([str(Path(root) / first), str(Path(root) / other)])
            overall, groups = comp.differences.get(other), comp.per_x
            per = {x: g.get("differences", {}).get(other) for x, g in groups.items()}
        if not lines:
            n = read(first, root)["n_composites"]
            lines = head("paired difference (seed 0, 95% paired bootstrap over composites)",
                         f"all {n}", *(f"{x} ({g['n']})" for x, g in groups.items()))
        lines.append(row(spec["label"], ci(overall, True), *(ci(v, True) for v in per.values())))
    return lines
