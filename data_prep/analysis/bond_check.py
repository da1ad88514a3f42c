"""The prototype's bond rules against measured members of the family: lengths and moments.

    magvox generate --out data/bond_check/<rule> --a1 M --a2 M --b PP --x S --configs FM \\
        --geometry <rule>         (make bondcheck: M = Mn, Fe, Ni; one campaign folder per rule)
    python -m data_prep.analysis.bond_check data/bond_check            (prints the card's section)

Lengths: ``data_prep.dft.reference_structures.comparison_table`` (measured bulk structures against
the prototype under both rules). Moments: the FM moment per 10-atom cell that GPAW finds for the
high-spin divalent MPS3 compounds at each rule's geometry, beside the spin-only moment of their
measured high-spin ions (2 S uB per ion: Mn2+ 5, Fe2+ 4, Ni2+ 2; two per cell). A rule whose
geometry settles the ion in a lower spin state misrepresents the compound.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_prep.dft.bond_rules import RULES
from data_prep.dft.reference_structures import MEASURED, comparison_table
from data_prep.io.run_record import find_run_record

#: Spin-only moment (uB) of the measured high-spin ion of each compound checked for its moment.
HIGH_SPIN_UB = {"MnPS3": 5.0, "FePS3": 4.0, "NiPS3": 2.0}


def _composite(compound: str) -> str:
    """The 10-atom cell's composite name of a measured compound: MnPS3 -> Mn2P2S6."""
    dec = next(m.decoration for m in MEASURED if m.compound == compound)
    return dec.name


def _moment_cell(folder: Path, composite: str) -> str:
    """'9.96' (uB per cell) for a converged FM run, else its status or 'not run'."""
    rec = find_run_record(folder / composite / "FM")
    if rec is None:
        return "not run"
    if rec.get("status") != "ok":
        return str(rec.get("status"))
    return f"{rec['moment_uB']:.2f}"


def moment_table(root: Path) -> str:
    """Markdown table of the FM moment per cell under each rule (``root/<rule>``) and the
    measured high-spin ions' spin-only moment per cell (uB)."""
    head = " | ".join(f"FM moment, `{rule}`" for rule in RULES)
    rows = [f"| compound | {head} | high-spin ions (2 x 2S) |",
            "|---|" + "---|" * len(RULES) + "---|"]
    for compound, per_ion in HIGH_SPIN_UB.items():
        comp = _composite(compound)
        cells = " | ".join(_moment_cell(root / rule, comp) for rule in RULES)
        rows.append(f"| {compound} ({comp}) | {cells} | {2 * per_ion:.2f} |")
    return "\n".join(rows)


def bond_rule_section(root: Path | None) -> str:
    """The card's section: the length table, and the moment table where ``root`` exists."""
    text = ("### The bond rule against measured structures (`data_prep.dft.reference_structures`)\n"
            "Lengths in A. The in-plane lattice (hence A-A) follows rule `covalent` under both "
            "rules; `ionic` lengthens the A-X bonds of high-spin divalent ions to the measured "
            "ones and leaves Cr2Ge2Te6 unchanged.\n\n" + comparison_table() + "\n")
    if root is not None and Path(root).is_dir():
        text += ("\nFM moment per 10-atom cell (uB) that GPAW finds at each rule's geometry "
                 f"(`make bondcheck`, run records in `data/{Path(root).name}/<rule>/`), beside "
                 "the measured high-spin ions' spin-only moment:\n\n" + moment_table(root) + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", type=Path, nargs="?", help="folder with one campaign per rule")
    print(bond_rule_section(p.parse_args(argv).root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
