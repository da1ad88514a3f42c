"""The dataset cards (data/README.md, README_se.md, README_s.md) state their stores' figures.

Each card is read for what it states (card_content.py: counts, parameters, moments, energies,
J's, the settings study, failures, every composite's row) and each figure is compared with the
store and run records at the precision the card prints. A prose edit passes; a figure that no
longer matches the data fails, listed with the data's value. `make card X=..` re-renders a card.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from card_content import Sources, check_card
from card_read import records_of, section, table

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
# X -> (card, campaign folder, store, histogram PNG)
CARDS = {"Te": ("README.md", "campaign", "cgt_te.zarr", "fm_moments.png"),
         "Se": ("README_se.md", "campaign_se", "cgt_se.zarr", "fm_moments_se.png"),
         "S": ("README_s.md", "campaign_s", "cgt_s.zarr", "fm_moments_s.png")}


def sources(x: str) -> Sources:
    """What `make card X=x` renders the card from (the Te card adds two studies)."""
    _, campaign, store, _ = CARDS[x]
    te = x == "Te"
    return Sources(DATA / store, DATA / campaign, exchange=DATA / "exchange_j.csv",
                   settings=DATA / "settings" if te else None,
                   bond_check=DATA / "bond_check" if te else None)


@pytest.fixture(scope="module", params=sorted(CARDS))
def card(request) -> tuple[str, str, Sources]:
    """(X, the committed card's text, its sources)."""
    x = request.param
    path = DATA / CARDS[x][0]
    if not path.is_file():
        pytest.fail(f"{path} is missing: make card X={x}", pytrace=False)
    return x, path.read_text(), sources(x)


def test_every_figure_of_the_card_is_the_stores(card):
    x, text, src = card
    findings = check_card(text, src)
    assert not findings, (f"data/{CARDS[x][0]} is stale (make card X={x}):\n"
                          + "\n".join(findings))


def test_a_fresh_render_states_the_stores_figures(card, tmp_path, monkeypatch):
    """What `make card` would write now passes the same check (its histogram PNG goes to
    tmp_path, not beside the committed store)."""
    from data_prep.analysis import card as card_module

    x, _, src = card
    name, _, _, png = CARDS[x]
    draw = card_module.moment_histogram
    monkeypatch.setattr(card_module, "moment_histogram",
                        lambda moments, path: draw(moments, tmp_path / Path(path).name))
    text, _ = card_module.render_card(src.store, src.campaign, png, name,
                                      settings=src.settings and src.settings / "README.md",
                                      exchange=src.exchange, bond_check=src.bond_check)
    assert (tmp_path / png).is_file()
    findings = check_card(text, src)
    assert not findings, "\n".join(findings)


# (X, text in the card, a wrong figure for it): each check finds its figure wrong
WRONG = [
    ("Te", "Spin densities of 55", "Spin densities of 54"),
    ("Te", "110 runs, 110", "111 runs, 110"),
    ('Te', '"h": 0.2,', '"h": 0.3,'),
    ("Te", "- CrFeGeSiTe6 FM: smearing_eV = 0.1\n", ""),
    ("Te", "`covalent` for 110 runs", "`covalent` for 109 runs"),
    ("Te", "<= 2.1e-14", "<= 3.1e-14"),
    ("Te", "moment 6.00 uB (Cr3+", "moment 6.10 uB (Cr3+"),
    ("Te", "FM 75 meV per cell", "FM 76 meV per cell"),
    ("Te", "| MnPS3 | 3.51", "| MnPS3 | 3.61"),
    ("Te", "| FePS3 (Fe2P2S6) | unconverged", "| FePS3 (Fe2P2S6) | 7.00"),
    ("Te", "| `ground_state` | 9 | 46 | 0 |", "| `ground_state` | 10 | 46 | 0 |"),
    ("Te", "##### 5\n", "###### 6\n"),
    ("Te", "| CrTiGe2Te6 | baseline | +37.3", "| CrTiGe2Te6 | baseline | +38.3"),
    ("Te", "| CrCoP2Te6 | relaxed | -0.0 | one state", "| CrCoP2Te6 | relaxed | -0.0 | Neel"),
    ("Te", "max force 0.049", "max force 0.059"),
    ("Te", "(mean -6.4;", "(mean -6.9;"),
    ("Te", "| Cr2Ge2Te6 | +5.14", "| Cr2Ge2Te6 | +5.24"),
    ("Te", "largest difference 2.7 meV", "largest difference 2.9 meV"),
    ("Te", "+0.27 meV): disagrees", "+0.27 meV): agrees"),
    ("Te", "| Cr2Ge2Te6 | 6.00 |", "| Cr2Ge2Te6 | 6.10 |"),
    ("Te", "(Cr +2.77, Co +0.14 uB)", "(Cr +2.77, Co +0.24 uB)"),
    ("S", "- CrTiGePS6 FM: unconverged", "- CrTiGePS6 AFM-Neel: unconverged"),
    ("S", "Also tried (2026-12-06)", "Also tried (2026-12-07)"),
    ("S", "| CrFeGePS6 | nan | nan | <NA> |", "| CrFeGePS6 | 4.00 | nan | <NA> |"),
    ("Se", "None: every run converged.", "None: every run converged.\n\nAlso tried: nothing."),
    ("Se", "| Cr2P2Se6 | +13.82", "| Cr2P2Se6 | +13.92"),
]


@pytest.mark.parametrize(("x", "right", "wrong"), WRONG)
def test_a_wrong_figure_in_a_card_is_found(x, right, wrong):
    text = (DATA / CARDS[x][0]).read_text()
    assert right in text, f"data/{CARDS[x][0]} no longer states {right!r}: update WRONG"
    assert check_card(text.replace(right, wrong, 1), sources(x))


def test_a_prose_edit_is_no_finding():
    text = (DATA / "README.md").read_text()
    edited = text.replace("Made on this repository's machine", "Computed on a small machine")
    assert edited != text and not check_card(edited, sources("Te"))


def test_the_te_card_holds_the_studies_and_the_labels_of_its_store():
    """The sections only the Te card has, and the label figures the card test always read."""
    from data_prep.dataset.store import open_dataset

    text = (DATA / "README.md").read_text()
    assert "## What moves the FM/AFM order" in text  # the settings study, for the Te card
    assert "### The bond rule against measured structures" in text
    assert "| MnPS3 (Mn2P2S6) |" in text  # with the moments of `make bondcheck`
    labels = open_dataset(DATA / "cgt_te.zarr").labels
    counts = labels["ground_state"].value_counts()
    missing = int(labels["ground_state"].isna().sum())
    assert (f"| `ground_state` | {counts.get(0, 0)} | {counts.get(1, 0)} | {missing} |"
            in text)
    rows = table(section(text, "All composites"), "| composite | M_FM")
    table_text = text.split("## All composites")[1]
    for composite in labels["composite"]:
        assert f"| {composite} |" in table_text
    # a pair whose two starts ended in one state shows that state's A1 and A2 moments
    collapsed = labels[labels["afm_collapsed"].fillna(False).astype(bool)]
    assert len(collapsed)
    records = records_of(DATA / "campaign")
    for r in collapsed.itertuples():
        row = next(cells for cells in rows if cells[0] == r.composite)
        fm = records[(records["composite"] == r.composite)
                     & (records["configuration"] == "FM")].iloc[0]
        a1, a2 = fm["sites"]["A1"], fm["sites"]["A2"]
        assert (f"one state ({a1} {fm['site_moments_uB'][0]:+.2f}, "
                f"{a2} {fm['site_moments_uB'][1]:+.2f} uB)") in row[5]
    failed = records[records["status"] != "ok"]
    failures = section(text, "Failed or unconverged runs")
    for r in failed.itertuples():
        assert f"{r.composite} {r.configuration}" in failures
    assert failed.empty == ("None: every run converged." in failures)


@pytest.mark.parametrize("x", ["Se", "S"])
def test_a_campaigns_notes_sit_under_its_failures_and_no_other_text(x: str) -> None:
    """A campaign's NOTES.md (what else was tried for its failed runs) sits under its failure
    list; a campaign without one (Se) has nothing there but the list."""
    name, folder, _, _ = CARDS[x]
    failures = section((DATA / name).read_text(), "Failed or unconverged runs").strip()
    notes = DATA / folder / "NOTES.md"
    assert notes.is_file() == (x == "S")  # the S campaign says what else was tried
    if notes.is_file():
        assert notes.read_text().strip() in failures
    else:
        listed = [line for line in failures.splitlines() if line.strip()]
        assert listed == ["None: every run converged."] or all(
            line.startswith("- ") for line in listed), listed


def test_a_rerun_with_other_scf_settings_is_named_with_what_differs():
    import pandas as pd

    from data_prep.analysis.card import common_parameters, load_records

    recs = load_records(DATA / "campaign")
    ok = recs[recs["status"] == "ok"]
    changed = ok.iloc[[0]].copy()
    changed.at[changed.index[0], "parameters"] = {**copy.deepcopy(ok.iloc[0]["parameters"]),
                                                  "maxiter": 777}
    _, deviations = common_parameters(pd.concat([ok, changed]))
    assert f"{changed.iloc[0]['composite']} {changed.iloc[0]['configuration']}: maxiter = 777" \
        in deviations
