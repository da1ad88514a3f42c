"""What a dataset card (data/README*.md, ``data_prep.analysis.card``) states, against what its
store and
run records hold: figure by figure, each at the precision the card prints it with.

The card is read for its figures (counts, moments, energies, parameters, failures), not its
bytes, so a prose edit passes and a wrong or stale figure fails. The expected values are
computed here from the store (``open_dataset``: labels, index) and the run records (JSON), not
by the card's renderer. ``check_card`` returns one line per disagreement (empty: the card is
right), so a failing audit lists every stale figure at once. The reading helpers are in
card_read.py, the checks of the studies a card shows (bond rules, J's, settings) in
card_studies.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from card_read import Findings, Sources, found, section, sections, table
from card_studies import check_bond_rules, check_exchange, check_settings


def check_intro(text: str, src: Sources, out: Findings) -> None:
    intro = sections(text)["intro"]
    out.figure("composites", (found(r"(\d+) decorated", intro) or [None])[0],
               src.labels.index.nunique())
    out.same("X", (found(r"X = ([A-Za-z ]+)\)", intro) or [""])[0].split(), src.xs)
    runs = found(r"(\d+) runs,\s+(\d+)\s+converged,\s+(\d+) samples", intro) or [None] * 3
    for name, printed, value in zip(("runs", "converged runs", "samples"), runs,
                                    (len(src.records), len(src.ok), len(src.index)), strict=True):
        out.figure(name, printed, value)
    made = section(text, "How it was made") or ""
    store, runs_dir = f"data/{src.store.name}", f"data/{src.campaign.name}"
    out.same("commands", found(r"magvox generate --out (\S+) --x ([A-Za-z ]+?) --", made),
             (runs_dir, " ".join(src.xs)))
    out.same("prep command", found(r"magvox prep (\S+) --out (\S+)", made), (runs_dir, store))


def _parameters(ok: pd.DataFrame) -> tuple[dict, dict[tuple[str, str], dict]]:
    """The parameters most converged runs share, and each other run's differing ones."""
    from data_prep.dft.gpaw_engine import GpawParameters  # a record's missing key: its default

    full = [GpawParameters.from_dict(p).as_dict() for p in ok["parameters"]]
    keys = [json.dumps(p, sort_keys=True) for p in full]
    common = json.loads(max(sorted(set(keys)), key=keys.count))
    others = {(r.composite, r.configuration): {k: v for k, v in p.items() if common.get(k) != v}
              for r, p in zip(ok.itertuples(), full, strict=True) if p != common}
    return common, others


def check_engine(text: str, src: Sources, out: Findings) -> None:
    body = section(text, "Engine and parameters") or ""
    stated = found(r"^(.+?), parameters `(\{.*?\})`", body, re.MULTILINE)
    common, others = _parameters(src.ok)
    out.same("engine", stated and stated[0], sorted(set(src.ok["engine_version"]))[0])
    out.same("engine versions", src.ok["engine_version"].nunique(), 1)
    out.same("common parameters", stated and json.loads(stated[1]), common)
    listed = {}
    for comp, conf, values in re.findall(r"^- (\S+) (\S+): (.+)$", body, re.MULTILINE):
        listed[(comp, conf)] = dict(kv.split(" = ") for kv in values.split(", "))
    out.same("runs with other settings", listed,
             {key: {k: str(v) for k, v in p.items()} for key, p in others.items()})


def check_trust(text: str, src: Sources, out: Findings) -> None:
    body = section(text, "Approximations") or ""
    rules = src.records.get("geometry", pd.Series(index=src.records.index, dtype=object))
    expected = rules.fillna("covalent").value_counts().to_dict()
    out.same("runs per bond rule", {r: int(n) for r, n in re.findall(r"`(\w+)` for (\d+) runs",
                                                                       body)}, expected)
    dm = (src.ok["moment_integrated_uB"] - src.ok["moment_uB"]).abs().max()
    stated = found(r"Over the (\d+) converged runs, .*?<= (\S+) uB", body) or [None] * 2
    out.figure("converged runs (moment check)", stated[0], len(src.ok))
    out.figure("largest |integral - moment|", stated[1], dm)
    cgt = src.ok[src.ok["composite"] == "Cr2Ge2Te6"].set_index("configuration")
    if {"FM", "AFM-Neel"} <= set(cgt.index):
        ref = found(r"Cr2Ge2Te6: FM moment (\S+) uB.*?FM (\S+) meV per cell below Neel",
                     body) or [None] * 2
        out.figure("Cr2Ge2Te6 FM moment", ref[0], cgt.loc["FM", "moment_uB"])
        out.figure("Cr2Ge2Te6 Neel - FM", ref[1],
                   1000 * (cgt.loc["AFM-Neel", "energy_eV"] - cgt.loc["FM", "energy_eV"]))
    if src.bond_check is not None:
        check_bond_rules(body, src.bond_check, out)


def check_labels(text: str, src: Sources, out: Findings) -> None:
    body = section(text, "Labels") or ""
    balance = table(body, "| label | class 0")
    out.same("class balance rows", [r[0] for r in balance], ["`ground_state`", "`moment_class`"])
    for row in balance:
        column = src.labels[row[0].strip("`")]
        for printed, value in zip(row[1:], ((column == 0).sum(), (column == 1).sum(),
                                            column.isna().sum()), strict=True):
            out.figure(f"class balance of {row[0]}", printed, int(value))
    moments = np.abs(src.labels["moment_uB"].dropna().to_numpy())
    bins = re.findall(r"^\s*(\d+)-(\d+)\s+uB \| (#*) ?(\d+)$", body, re.MULTILINE)
    out.same("histogram total", sum(int(n) for *_, n in bins), len(moments))
    edges = [float(lo) for lo, *_ in bins] + [float(bins[-1][1])] if bins else [0.0, 1.0]
    counts = np.histogram(moments, bins=edges)[0]
    for (lo, hi, bar, n), count in zip(bins, counts, strict=True):
        out.figure(f"composites with {lo}-{hi} uB", n, int(count))
        out.same(f"bar of {lo}-{hi} uB", len(bar), int(n))
    png = found(r"histogram: `(\S+)`", body)
    out.same("histogram PNG beside the store", png and (src.store.parent / png[0]).is_file(), True)


def check_composites(text: str, src: Sources, out: Findings) -> None:
    rows = table(section(text, "All composites") or "", "| composite | M_FM")
    out.same("composites of the table", sorted(r[0] for r in rows), sorted(src.labels.index))
    fm = src.ok[src.ok["configuration"] == "FM"].set_index("composite")
    for comp, moment, de, ground, mclass, note in (r[:6] for r in rows):
        if comp not in src.labels.index:
            continue
        lab = src.labels.loc[comp]
        out.figure(f"{comp} M_FM", moment, lab["moment_uB"])
        out.figure(f"{comp} E_AFM - E_FM", de, 1000 * lab["exchange_energy_eV"])
        out.figure(f"{comp} ground_state", ground, lab["ground_state"])
        out.figure(f"{comp} moment_class", mclass, lab["moment_class"])
        expected = ""
        if lab["afm_collapsed"]:
            r = fm.loc[comp]
            sites = ", ".join(f"{s} {m:+.2f}" for s, m in zip(r["symbols"][:2],
                                                               r["site_moments_uB"][:2],
                                                               strict=True))
            expected = f"FM and Neel starts end in one state ({sites} uB)"
        out.same(f"{comp} note", note, expected)


def check_failures(text: str, src: Sources, out: Findings) -> None:
    body = (section(text, "Failed or unconverged runs") or "").strip()
    bad = src.records[src.records["status"] != "ok"]
    listed = set(re.findall(r"^- (\S+) (\S+): ([^,\n]+), (.*)$", body, re.MULTILINE))
    out.same("failed runs", listed, {(r.composite, r.configuration, r.status, str(r.reason))
                                     for r in bad.itertuples()})
    out.same("'every run converged'", "None: every run converged." in body, bad.empty)
    notes = src.campaign / "NOTES.md"
    rest = [line for line in body.splitlines() if not re.match(r"^- \S+ \S+: ", line)
            and line != "None: every run converged."]
    out.same("campaign notes (NOTES.md) under the failures", _lines(rest),
             _lines(notes.read_text().splitlines()) if notes.is_file() else [])


def _lines(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip()]


def check_card(text: str, src: Sources) -> Findings:
    """Every disagreement between the card ``text`` and its sources (empty: none)."""
    out = Findings()
    for check in (check_intro, check_engine, check_trust, check_labels, check_settings,
                  check_exchange, check_failures, check_composites):
        check(text, src, out)
    return out
