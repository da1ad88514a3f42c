"""One markdown table per measure, rendered from its records (``search.bench.records``), the
current record first: each row is one record (or one configuration of one record), so the
current figure and how it moved stand together.

Every renderer takes the records newest first and returns markdown lines; a figure a record
lacks (an older bench measured less) is shown as ``n/r`` (not recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.bench.records import load_text, machine_text

NR = "n/r"


def when(record: dict[str, Any], first: bool) -> str:
    """'2026-12-07 04:10 (987b382), current' for the first row; date and commit otherwise."""
    date = record["date"].replace("T", " ").removesuffix("Z")
    return f"{date} UTC ({record['commit']})" + (", **current**" if first else "")


def conditions(record: dict[str, Any]) -> str:
    """'2 cores (AMD EPYC ...), 2 torch threads, torch 2.13.0+cpu; load 1.5-1.9'."""
    return f"{machine_text(record)}; load {load_text(record)}"


def num(value: Any, fmt: str = "{:.2f}", unit: str = "") -> str:
    """``value`` formatted, or n/r when missing or not a number."""
    if value is None or isinstance(value, str):
        return NR if value is None else value
    if value != value:  # NaN
        return NR
    return fmt.format(value) + unit


def head(*columns: str) -> list[str]:
    """The header and rule of a markdown table."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def row(*cells: str) -> str:
    """One markdown table row."""
    return "| " + " | ".join(cells) + " |"


def learner(records: list[dict[str, Any]]) -> list[str]:
    """The default learner: its strided first conv direct vs FFT, the default trial in memory
    and ``magvox train --preset periodic-fast`` as a process, backend auto vs fft."""
    lines = head("date (commit)", "machine; load", "conv1 per sample fwd+bwd: direct / fft",
                 "ratio", "default trial in memory: auto / fft", "ratio",
                 "`magvox train --preset periodic-fast`: auto / fft", "ratio",
                 "balanced accuracy")
    for i, r in enumerate(records):
        f = r["figures"]
        conv = f["layer"]["rows"]
        trial = f.get("trial") or {}
        proc = f.get("process") or {}
        t = (f"{num(trial.get('auto', {}).get('wall_s'), '{:.1f}')} / "
             f"{num(trial.get('fft', {}).get('wall_s'), '{:.1f}')} s "
             f"({trial.get('auto', {}).get('epochs', '?')} epochs x "
             f"{trial.get('auto', {}).get('folds', '?')} folds)") if trial else NR
        p = (f"{num(proc['auto']['wall_s'], '{:.1f}')} / {num(proc['fft']['wall_s'], '{:.1f}')} s"
             if proc else NR)
        metric = trial.get("auto", {}).get("metric") if trial else None
        lines.append(row(
            when(r, i == 0), conditions(r),
            f"{conv['direct']['s'] * 1e3:.2f} / {conv['fft']['s'] * 1e3:.2f} ms",
            f"{f['layer']['ratio']:.0f}x", t, num(trial.get("ratio"), "**{:.1f}x**"), p,
            num(proc.get("ratio"), "**{:.1f}x**"), num(metric, "{:.3f}")))
    return lines


def base(records: list[dict[str, Any]]) -> list[str]:
    """The original base model (seed-base): its first conv FFT vs torch.nn.Conv3d, two epochs
    over 62 composites, the trial's peak memory beside ``magvox estimate``."""
    lines = head("date (commit)", "machine; load",
                 "conv1, 1 sample, fwd+bwd: FFT cached / FFT plain / Conv3d",
                 "ratio Conv3d / FFT: cached; plain; forward only", "epoch 1 wall / CPU",
                 "epoch 2 wall / CPU", "peak RSS", "estimate")
    for i, r in enumerate(records):
        f = r["figures"]
        runs = f["first_layer"]["runs"]
        fb = {k: v[0] + v[1] for k, v in runs.items()}
        ep = f["epoch"]
        wall, cpu = ep["wall_s"], ep["cpu_s"]
        est = f["estimate_mb"]
        lines.append(row(
            when(r, i == 0), conditions(r),
            f"{fb['fft_cached']:.3f} / {fb['fft_plain']:.3f} / {fb['direct']:.1f} s",
            f"**{f['first_layer']['ratio']:.0f}x**; {f['first_layer']['ratio_plain']:.0f}x; "
            f"{f['first_layer']['ratio_forward']:.0f}x",
            f"{wall[0]:.1f} / {cpu[0]:.1f} s", f"{wall[-1]:.1f} / {cpu[-1]:.1f} s",
            f"{ep['peak_rss_mb']:.0f} MB",
            f"{est:.0f} MB ({100 * (est / ep['peak_rss_mb'] - 1):+.0f}%)"))
    current = records[0]["figures"].get("presets") if records else None
    if current:
        lines += ["", f"Other presets in the current record (1 epoch, "
                  f"{records[0]['figures'].get('samples', 62)} composites, batch 20):", "",
                  *head("preset", "epoch wall / CPU", "peak RSS", "estimate")]
        for p in current:
            est = p["estimate_mb"]
            lines.append(row(p["preset"], f"{p['wall_s'][0]:.1f} / {p['cpu_s'][0]:.1f} s",
                             f"{p['peak_rss_mb']:.0f} MB",
                             f"{est:.0f} MB ({100 * (est / p['peak_rss_mb'] - 1):+.0f}%)"))
    return lines


def _overheads(records: list[dict[str, Any]], last: str, key: str) -> list[str]:
    lines = head("date (commit)", "machine; load", "trial", "bare run_trial",
                 "run_trial in the search", "per trial in the search", "overhead against bare",
                 "service cost per trial", "idle between trials", last)
    for i, r in enumerate(records):
        for label, ov in r["figures"]["rows"].items():
            service = (f"**{ov['service_s']:.2f} s** = {ov['service_pct']:.0f}%"
                       if ov.get("service_s") is not None else NR)
            lines.append(row(
                when(r, i == 0), conditions(r), label, num(ov.get("bare_s"), unit=" s"),
                num(ov.get("compute_s"), unit=" s"), num(ov.get("per_trial_s"), unit=" s"),
                f"{ov['overhead_s']:.2f} s = {ov['overhead_pct']:.0f}%", service,
                num(ov.get("gap_s"), unit=" s"), num(ov.get(key), "{:.1f}", " s")))
    return lines


def service(records: list[dict[str, Any]]) -> list[str]:
    """The search service's cost per trial (identical trials one at a time against
    ``run_trial`` called directly), and where measured trials per hour and TPE vs random."""
    lines = _overheads(records, "start-up (once)", "startup_s")
    rated = [r for r in records if r["figures"].get("trials_per_hour")]
    if rated:
        lines += ["", *head("date (commit)", "default space: trials, wall, trials per hour",
                            "TPE vs random: best validation score after the same trials "
                            "(mean over seeds)")]
        for i, r in enumerate(rated):
            tph, cmp = r["figures"]["trials_per_hour"], r["figures"].get("tpe_vs_random") or {}
            means = "; ".join(f"{k} {sum(v) / len(v):.3f} ({', '.join(f'{x:.3f}' for x in v)})"
                              for k, v in cmp.items() if v)
            lines.append(row(when(r, i == 0), f"{tph['trials']}, {tph['wall_s']:.0f} s, "
                             f"**{tph['per_hour']:.0f}/h**", means or NR))
    return lines


def slurm(records: list[dict[str, Any]]) -> list[str]:
    """The same on a Slurm cluster, with the time from ``sbatch`` to the first trial."""
    return _overheads(records, "submit to first trial", "first_trial_s")


def learning(records: list[dict[str, Any]]) -> list[str]:
    """The default search's best CNN per target, scored once on the held-out test split. The
    verdicts the records keep are not shown: most were printed before magvox said "no interval"
    for a class of fewer than 5 test composites (the Te split holds one AFM composite)."""
    lines = head("date (commit)", "target", "metric", "test composites", "CNN", "majority",
                 "composition", "trials", "wall")
    for i, r in enumerate(records):
        for t in r["figures"]["rows"]:
            unit = f" ({t['unit']})" if t.get("unit") else ""
            cells = [t["scores"].get(m) for m in ("cnn", "majority", "composition")]
            lines.append(row(
                when(r, i == 0), t["target"], t["metric"] + unit, str(t["test_composites"]),
                *(f"{c[0]:.3f} [{c[1]:.3f}, {c[2]:.3f}]" if c else NR for c in cells),
                str(t["trials"]), f"{t['wall_s'] / 60:.1f} min"))
    return lines


def table(records: list[dict[str, Any]]) -> list[str]:
    """A record whose figures are tables already (``{"tables": [{"columns": [...], "rows":
    [[...]]}]}``, e.g. the attribution study): the current record's tables, then where the
    earlier records are."""
    if not records:
        return []
    current = records[0]
    lines = [f"Record of {when(current, True)}, {conditions(current)}: `{current['command']}`"]
    for t in current["figures"]["tables"]:
        lines += ["", *head(*t["columns"]), *(row(*map(str, cells)) for cells in t["rows"])]
    if len(records) > 1:
        lines += ["", "Earlier records: " + ", ".join(when(r, False) for r in records[1:]) + "."]
    return lines


RENDERERS: dict[str, Callable[[list[dict[str, Any]]], list[str]]] = {
    "learner": learner, "base": base, "service": service, "slurm": slurm,
    "learning": learning, "explain": table}
