"""Bond-length rules of the A2B2X6 prototype: which A-X, B-X and B-B bonds a decoration gets.

Two rules, named in every run record (``geometry``) so that data of one rule is never mixed with
data of the other:

* ``covalent`` (rule 1; made the Te and Se campaigns of Table 1 and their labels): every bond is a
  sum of Cordero covalent radii (``ase.data.covalent_radii``; low-spin values for Mn, Fe, Co)
  times the factor that makes Cr2Ge2Te6 exact. It compresses the A-X bonds of high-spin and
  divalent ions: MnPS3 gets Mn-S 2.45 A, 2.63 A measured (``data_prep.dft.reference_structures``).
* ``ionic`` (rule 2, the default of new campaigns): the A-X bond is a sum of Shannon ionic radii
  (octahedral, high spin) plus the constant that makes Cr-Te of Cr2Ge2Te6 exact, with the A
  valence from charge balance: six X2- against the B-B dimer, each B bonded to its partner and to
  three X (Ge, Si, Sn: B3+; P, As, Sb: B4+), so Cr2Ge2Te6 has Cr3+ and MnPS3 has Mn2+. B-X, B-B
  and the in-plane lattice constant keep rule 1, which matches the measured lattice constants
  within 3 %; the X heights take up the longer bonds (trigonally squeezed octahedra, as measured
  for MPS3). Elements or valences without a tabulated radius fall back to rule 1's radius
  differences against Cr3+ (A) or Te2- (X).

Checked with the embedded GPAW (PBE, LCAO dzp, h 0.2 A, 4x4x1, FM, 10-atom cell): Mn2P2S6 under
``covalent`` settles at 8.47 uB per cell (an intermediate-spin Mn), under ``ionic`` at 9.96 uB
(high-spin Mn2+, 5 uB each, as measured for MnPS3) and 0.53 eV per cell lower; Fe2P2S6 under
``ionic`` converges to 8.00 uB (high-spin Fe2+) in 14 SCF iterations, under ``covalent`` its SCF
still sloshed after 160 iterations.
"""

from __future__ import annotations

RULES = ("covalent", "ionic")
DEFAULT_RULE = "ionic"
D_AX_REF, D_BX_REF, D_BB_REF = 2.78, 2.59, 2.47  # A: Cr-Te, Ge-Te, Ge-Ge of Cr2Ge2Te6 (PBE)

# Shannon, Acta Cryst. A 32, 751 (1976): effective ionic radii (A), coordination 6, high spin
# where both exist: {element: {valence: radius}}.
IONIC_RADII_A = {
    "Ti": {2: 0.86, 3: 0.67}, "V": {2: 0.79, 3: 0.64}, "Cr": {2: 0.80, 3: 0.615},
    "Mn": {2: 0.83, 3: 0.645}, "Fe": {2: 0.78, 3: 0.645}, "Co": {2: 0.745, 3: 0.61},
    "Ni": {2: 0.69, 3: 0.60}, "Cu": {2: 0.73, 3: 0.54}, "Zn": {2: 0.74}, "Cd": {2: 0.95},
    "Mg": {2: 0.72}, "Y": {3: 0.90}, "Sc": {3: 0.745}, "Nb": {3: 0.72}, "Mo": {3: 0.69},
    "Ru": {3: 0.68}, "Rh": {3: 0.665}, "In": {3: 0.80}, "Ga": {3: 0.62}, "Al": {3: 0.535},
}  # fmt: skip
IONIC_RADII_X = {"O": 1.40, "S": 1.84, "Se": 1.98, "Te": 2.21}
B_VALENCE = {"Si": 3, "Ge": 3, "Sn": 3, "Pb": 3, "P": 4, "As": 4, "Sb": 4, "Bi": 4}
X_CHARGE = 2


def covalent_radius(symbol: str) -> float:
    """Cordero covalent radius (A) as tabulated by ASE; ValueError for an unknown symbol."""
    from ase.data import atomic_numbers, covalent_radii  # ASE is the dft extra: not for --help

    if symbol not in atomic_numbers:
        raise ValueError(f"unknown element symbol {symbol!r}")
    return float(covalent_radii[atomic_numbers[symbol]])


def a_valence(b1: str, b2: str) -> float:
    """Mean A valence from charge balance: 2 A + B1 + B2 = 6 X2- (B3+ when not tabulated)."""
    return (6 * X_CHARGE - B_VALENCE.get(b1, 3) - B_VALENCE.get(b2, 3)) / 2


def ionic_radius_a(symbol: str, valence: float) -> float:
    """Shannon radius (A) of A at ``valence`` (linear between tabulated valences).

    Without a tabulated radius: Cr3+'s radius plus rule 1's covalent difference to Cr.
    """
    table = IONIC_RADII_A.get(symbol, {})
    lo, hi = int(valence // 1), int(-(-valence // 1))
    if lo in table and hi in table:
        return table[lo] + (valence - lo) * (table[hi] - table[lo])
    k = D_AX_REF / (covalent_radius("Cr") + covalent_radius("Te"))
    return IONIC_RADII_A["Cr"][3] + k * (covalent_radius(symbol) - covalent_radius("Cr"))


def ionic_radius_x(symbol: str) -> float:
    """Shannon radius (A) of X2-; without one, Te2-'s plus rule 1's covalent difference to Te."""
    if symbol in IONIC_RADII_X:
        return IONIC_RADII_X[symbol]
    k = D_AX_REF / (covalent_radius("Cr") + covalent_radius("Te"))
    return IONIC_RADII_X["Te"] + k * (covalent_radius(symbol) - covalent_radius("Te"))


def covalent_bonds(a1: str, a2: str, b1: str, b2: str, x: str) -> dict[str, float]:
    """Rule 1, bond lengths in A: ``AX`` (mean A), ``B1X``, ``B2X``, ``BB``."""
    r = covalent_radius
    k_ax = D_AX_REF / (r("Cr") + r("Te"))
    k_bx = D_BX_REF / (r("Ge") + r("Te"))
    k_bb = D_BB_REF / (2 * r("Ge"))
    r_a = 0.5 * (r(a1) + r(a2))
    return {"AX": k_ax * (r_a + r(x)), "B1X": k_bx * (r(b1) + r(x)),
            "B2X": k_bx * (r(b2) + r(x)), "BB": k_bb * (r(b1) + r(b2))}  # fmt: skip


def ionic_ax(a1: str, a2: str, b1: str, b2: str, x: str) -> float:
    """Rule 2's A-X bond (A): mean Shannon radius of A1, A2 at the charge-balance valence + X2-."""
    offset = D_AX_REF - IONIC_RADII_A["Cr"][3] - IONIC_RADII_X["Te"]  # -0.045 A, from Cr-Te
    v = a_valence(b1, b2)
    r_a = 0.5 * (ionic_radius_a(a1, v) + ionic_radius_a(a2, v))
    return r_a + ionic_radius_x(x) + offset


def bond_lengths_for(rule: str, a1: str, a2: str, b1: str, b2: str, x: str) -> dict[str, float]:
    """Bond lengths (A) under ``rule``: AX, B1X, B2X, BB, and ``AX_packing``, the A-X length that
    sets the in-plane lattice constant (rule 1's AX under both rules)."""
    if rule not in RULES:
        raise ValueError(f"geometry rule {rule!r} is not one of {', '.join(RULES)}")
    bonds = covalent_bonds(a1, a2, b1, b2, x)
    bonds["AX_packing"] = bonds["AX"]
    if rule == "ionic":
        bonds["AX"] = ionic_ax(a1, a2, b1, b2, x)
    return bonds
