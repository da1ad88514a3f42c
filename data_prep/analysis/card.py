"""The dataset card (``data/README.md``): how a dataset was made and how far to trust it.

``python -m data_prep.analysis.card DATASET CAMPAIGN [--out data/README.md]`` writes the card from
the
prepared dataset (labels, index) and the campaign's run records (parameters, failures), plus a
histogram of the FM moments as a PNG beside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep import CLASS_TARGETS
from data_prep.io.run_record import run_records

APPROXIMATIONS = """\
- **Geometry is not relaxed.** Every composite uses the prototype built by
  `data_prep.dft.structures` under a bond-length rule of `data_prep.dft.bond_rules` (named below;
  both
  give Cr2Ge2Te6 a = 6.83 A, Cr-Te 2.78 A, Ge-Te 2.59 A, Ge-Ge 2.47 A); 20 A box, layer centred.
  Composites whose real bonds differ much from the radii sum (large or soft ions) carry strain,
  which shifts exchange energies; the labels are those of the prototype geometry.
- **PBE, no +U, collinear, no spin-orbit coupling.** PBE tends to delocalise 3d states;
  exchange energies of the order of 10 meV per cell or less are within the method's noise.
- **LCAO (dzp basis), grid h = 0.2 A, 4x4x1 k-points, Fermi-Dirac 0.05 eV**, no geometry or
  k-point convergence study per composite (see the Cr2Ge2Te6 check below).
- **AFM means the Neel pattern of the 10-atom cell.** For A1 != A2 this is a ferrimagnet (the two
  A carry different moments); zigzag and stripy orders (rectangular cell) were not computed, so
  `ground_state = 1` means "FM below Neel", not "FM is the ground state among all orders".
- **The stored density is the smooth (pseudo) valence density**, as in a VASP CHGCAR; it
  integrates to the valence electron count and the magnetization to the cell's moment.
- The SCF can settle in a local minimum (e.g. a low-spin state of Mn, Fe, Co); the moment
  histogram and the table below show what each run found."""

LABELS = """\
| label | definition | class 1 |
|---|---|---|
| `ground_state` | sign of E(AFM-Neel) - E(FM) | **1 = FM** lower in energy |
| `moment_class` | FM-run total moment > 4 uB per cell | **1 = moment > 4 uB** |
| `moment_uB` | total moment of the FM run, uB per cell (regression) | - |
| `exchange_energy_eV` | E(AFM-Neel) - E(FM), eV per 10-atom cell (regression) | - |
| `J1_meV`, `J2_meV`, `J3_meV` | exchange of the 1st-3rd A-A shells, meV (below) | - |

If the FM and Neel starts end in one state (same moment within 0.1 uB and energy within 1 meV),
no second magnetic state is metastable and `ground_state` = 1 (`afm_collapsed` in the label
table): the A2 ion then holds no moment of its own that could order against Cr, only the small
moment the Cr polarizes on it, whose sign follows the bonding rather than a spin order (the note
gives the A1 and A2 site moments of that state, so it can be judged). Two different states within
1 meV are left unlabelled (`<NA>`): the method cannot order them. For a model that reads both
runs (`configuration=FM+AFM-Neel`) such a pair is a shortcut: its two densities are one density
twice and its label is always FM, so "are the two channels equal?" alone scores well above
chance; `magvox search assess` therefore also gives every two-run figure without these pairs,
with their count.

`J1_meV`, `J2_meV`, `J3_meV` (regression; `data_prep.analysis.exchange`): the Heisenberg couplings
of the
first, second and third A-A shells, E = E0 - sum_<ij> J_n S_i.S_j with each pair counted once,
|S| = 3/2 for Cr3+ and **J > 0 ferromagnetic**, fitted by least squares to FM, Neel, zigzag and
stripy of the rectangular 4-A cell with one k-mesh (`make jcampaign jlabels`). Only Cr2B2X6
composites whose four runs converged and kept their magnetic order carry them; the others are
listed with the reason in the dataset's `exchange.csv`.

The input density of a sample is the FM run's spin density (models' default), so a label is never
readable from which configuration a density came from. Splits are by composite."""


def geometry_rules(records: pd.DataFrame) -> str:
    """Which bond-length rule made which runs (a record without one: rule ``covalent``)."""
    rules = records.get("geometry", pd.Series(index=records.index, dtype=object))
    counts = rules.fillna("covalent").value_counts().sort_index()
    parts = [f"`{rule}` for {n} runs" for rule, n in counts.items()]
    return ("- **Bond-length rule** (`data_prep.dft.bond_rules`): " + ", ".join(parts) + ". Rule "
            "`covalent` compresses the A-X bonds of high-spin divalent ions (Mn-S of MnPS3 "
            "2.45 A against 2.63 A measured); `ionic` does not. Runs of one rule are never "
            "mixed in one campaign folder.")


def load_records(campaign: Path) -> pd.DataFrame:
    """One row per run record under ``campaign`` (composite, configuration, status, ...)."""
    return pd.DataFrame(run_records(campaign))


def moment_histogram(moments: np.ndarray, png: Path) -> str:
    """Write a histogram PNG and return a text histogram (1 uB bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = np.arange(0, max(8, np.ceil(np.nanmax(moments)) + 1) + 1)
    counts, edges = np.histogram(np.abs(moments), bins=bins)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(np.abs(moments), bins=bins, color="tab:blue", edgecolor="k")
    ax.axvline(4.0, color="tab:red", ls="--", label="moment_class threshold (4 uB)")
    ax.set_xlabel("FM moment (uB per cell)")
    ax.set_ylabel("composites")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    rows = zip(edges[:-1], edges[1:], counts, strict=True)
    lines = [f"{lo:4.0f}-{hi:<3.0f} uB | {'#' * c} {c}" for lo, hi, c in rows]
    return "\n".join(lines)


def _balance(labels: pd.DataFrame) -> str:
    out = ["| label | class 0 | class 1 | missing |", "|---|---|---|---|"]
    for col in CLASS_TARGETS:
        s = labels[col]
        out.append(f"| `{col}` | {(s == 0).sum()} | {(s == 1).sum()} | {s.isna().sum()} |")
    return "\n".join(out)


def _a_site_moments(records: pd.DataFrame, composite: str) -> str:
    """'Cr +2.75, Ru -0.34 uB': the A1 and A2 site moments of a composite's FM run (the first
    two sites of a run record), or '' when the record lacks them."""
    if not len(records) or "site_moments_uB" not in records:
        return ""
    hit = records[(records["composite"] == composite) & (records["configuration"] == "FM")
                  & (records["status"] == "ok")]  # fmt: skip
    if not len(hit) or not isinstance(hit.iloc[0]["site_moments_uB"], list):
        return ""
    r = hit.iloc[0]
    return ", ".join(f"{el} {m:+.2f}" for el, m in zip(r["symbols"][:2], r["site_moments_uB"][:2],
                                                        strict=True)) + " uB"


def _table(labels: pd.DataFrame, records: pd.DataFrame | None = None) -> str:
    """The per-composite label table; a collapsed pair's note gives the one state's A moments."""
    records = pd.DataFrame() if records is None else records
    out = ["| composite | M_FM (uB) | E_AFM - E_FM (meV) | ground_state | moment_class | note |",
           "|---|---|---|---|---|---|"]  # fmt: skip
    for r in labels.itertuples():
        dE = r.exchange_energy_eV * 1000 if pd.notna(r.exchange_energy_eV) else float("nan")
        note = ""
        if getattr(r, "afm_collapsed", False):
            sites = _a_site_moments(records, r.composite)
            note = "FM and Neel starts end in one state" + (f" ({sites})" if sites else "")
        out.append(f"| {r.composite} | {r.moment_uB:.2f} | {dE:.0f} | {r.ground_state} | "
                   f"{r.moment_class} | {note} |")  # fmt: skip
    return "\n".join(out)


def _failures(records: pd.DataFrame) -> str:
    bad = records[records["status"] != "ok"] if len(records) else records
    if not len(bad):
        return "None: every run converged."
    return "\n".join(f"- {r.composite} {r.configuration}: {r.status}, {r.reason}"
                     for r in bad.itertuples())  # fmt: skip


def _campaign_notes(campaign: Path) -> str:
    """``NOTES.md`` of the campaign folder (what else was tried for its failed runs), if any."""
    from data_prep.io.fileio import folder_notes

    notes = folder_notes(campaign)
    return "\n\n" + notes if notes else ""


def common_parameters(records: pd.DataFrame) -> tuple[dict, str]:
    """The parameters most converged runs share, and a list of the runs that differ (re-runs
    with a gentler SCF mixer or more iterations, say)."""
    from data_prep.dft.gpaw_engine import GpawParameters

    ok = records[records["status"] == "ok"]
    # records written before a parameter existed ran with its default
    full = ok["parameters"].map(lambda p: GpawParameters.from_dict(p).as_dict())
    keys = full.map(lambda p: json.dumps(p, sort_keys=True))
    common = keys.mode().iloc[0]
    others = [f"- {r.composite} {r.configuration}: " + ", ".join(
                  f"{k} = {v}" for k, v in sorted(p.items()) if json.loads(common).get(k) != v)
              for r, p, key in zip(ok.itertuples(), full, keys, strict=True) if key != common]
    if others:
        text = ("Runs with other settings: both runs of a composite whose SCF did not converge "
                "with the common settings, redone together with the settings named, so that "
                "its labels compare like with like. A wider smearing can change the moments of "
                "itinerant magnets (Fe, Co on A2) noticeably; read those rows with that in "
                "mind. Each was made by the campaign command with `--set` for the settings "
                "named, and `magvox generate --from` its record reproduces it.\n"
                + "\n".join(others))
    else:
        text = "Every converged run used these parameters."
    return json.loads(common), text


def _consistency(records: pd.DataFrame) -> str:
    ok = records[records["status"] == "ok"]
    dm = (ok["moment_integrated_uB"] - ok["moment_uB"]).abs().max()
    text = (f"Over the {len(ok)} converged runs, |integral of the written magnetization - GPAW's "
            f"moment| <= {dm:.1e} uB.")  # fmt: skip
    cgt = ok[ok["composite"] == "Cr2Ge2Te6"].set_index("configuration")
    if {"FM", "AFM-Neel"} <= set(cgt.index):
        de = (cgt.loc["AFM-Neel", "energy_eV"] - cgt.loc["FM", "energy_eV"]) * 1000
        text += (f" Reference check, Cr2Ge2Te6: FM moment {cgt.loc['FM', 'moment_uB']:.2f} uB "
                 f"(Cr3+, S = 3/2: 6 uB per cell), FM {de:.0f} meV per cell below Neel "
                 f"(FM is the experimental order of the monolayer and bulk).")  # fmt: skip
    return text


def render_card(
    dataset: Path, campaign: Path, png_name: str = "fm_moments.png",
    card_name: str = "README.md", settings: Path | None = None, exchange: Path | None = None,
    bond_check: Path | None = None,
) -> tuple[str, Path]:
    """The card's markdown text and the path of its histogram PNG (beside ``dataset``).

    ``card_name`` is where the card goes (beside the dataset), as the card's own command line
    names it; the X element(s) and the commands are read from the run records. ``settings``:
    the settings study's table (``data_prep.analysis.settings_study``), included as a section;
    ``exchange``: the J1-J3 table (``data_prep.analysis.exchange_labels``), its rows of this card's
    X;
    ``bond_check``: the folder of ``make bondcheck`` (the bond rules' moments for measured MPS3),
    which adds the bond-rule section (``data_prep.analysis.bond_check``).
    """
    from data_prep.analysis.bond_check import bond_rule_section
    from data_prep.analysis.exchange_card import exchange_section
    from data_prep.dataset.store import open_dataset

    ds = open_dataset(dataset)
    labels = ds.labels.sort_values("composite")
    records = load_records(campaign)
    params = records[records["status"] == "ok"].iloc[0]
    common, deviations = common_parameters(records)
    png = Path(dataset).parent / png_name
    hist = moment_histogram(labels["moment_uB"].dropna().to_numpy(), png)
    n_ok = int((records["status"] == "ok").sum())
    xs = " ".join(sorted({str(site["X"]) for site in records["sites"] if isinstance(site, dict)}))
    runs, store = f"data/{Path(campaign).name}", f"data/{Path(dataset).name}"
    rule = records.get("geometry", pd.Series(dtype=object)).fillna("covalent").mode()
    rule = rule.iloc[0] if len(rule) else "covalent"
    png_arg = "" if png_name == "fm_moments.png" else f" --png {png_name}"
    text = f"""# The bundled dataset: `{Path(dataset).name}`

Spin densities of {labels["composite"].nunique()} decorated Cr2Ge2Te6-family monolayers
(A1 = Cr; A2, the B pair and X from Table 1 of the original work, X = {xs}), each computed in the
FM and AFM-Neel configurations by magvox's embedded DFT engine: {len(records)} runs, {n_ok}
converged, {len(ds.index)} samples in the dataset. Made on this repository's machine (2 CPU
cores), no VASP.

## How it was made (exact commands)
```
magvox generate --out {runs} --x {xs} --configs FM AFM-Neel --geometry {rule}
magvox prep {runs} --out {store} --native-only
python -m data_prep.analysis.card {store} {runs} --out data/{card_name}{png_arg}
```
`magvox generate --from {runs}/<composite>/<configuration>/magvox_run.json` reproduces any
single run from its recorded parameters. The run records (energies, per-site moments, parameters,
GPAW logs, structures) are in `{runs}/`; the densities themselves are in the dataset.

## Engine and parameters
{params["engine_version"]}, parameters `{json.dumps(common)}`: spin-polarized,
initial moments on the A sites only (Cr 3 uB, others by element, at least 1 uB).
{deviations}

## Approximations: how far to trust it
{APPROXIMATIONS}
{geometry_rules(records)}
{"" if bond_check is None else chr(10) + bond_rule_section(bond_check)}
{_consistency(records)}

## Labels
{LABELS}

### Class balance
{_balance(labels)}

### FM moments (histogram: `{png.name}`)
```
{hist}
```

{_settings_section(settings)}{exchange_section(exchange, set(xs.split()), records)}
## Failed or unconverged runs
{_failures(records)}{_campaign_notes(campaign)}

## All composites
{_table(labels, records)}
"""
    return text, png


def _settings_section(settings: Path | None) -> str:
    if settings is None or not Path(settings).is_file():
        return ""
    return (f"## What moves the FM/AFM order: settings study (`make settings settings-table`)\n"
            f"Per composite and DFT setting, from `data/{Path(settings).parent.name}/"
            f"{Path(settings).name}` "
            "(`data_prep.analysis.settings_study`).\n\n" + Path(settings).read_text() + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dataset", type=Path)
    p.add_argument("campaign", type=Path)
    p.add_argument("--out", type=Path, default=Path("data/README.md"))
    p.add_argument("--png", default="fm_moments.png",
                   help="name of the FM-moment histogram written beside the dataset")
    p.add_argument("--settings", type=Path,
                   help="include the settings study's table (data/settings/README.md)")
    p.add_argument("--exchange", type=Path,
                   help="include the J1-J3 table of this card's X (data/exchange_j.csv)")
    p.add_argument("--bond-check", type=Path,
                   help="include the bond rules against measured structures, with the moments "
                        "of this folder's runs (data/bond_check, make bondcheck)")
    args = p.parse_args(argv)
    text, png = render_card(args.dataset, args.campaign, args.png, args.out.name, args.settings,
                            args.exchange, args.bond_check)
    args.out.write_text(text)
    print(f"wrote {args.out} and {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
