"""Decorate the A2B2X6 prototype and compute magnetic configurations with DFT.

Engine ``gpaw`` runs spin-polarized PBE (LCAO dzp) here, on a local Ray cluster or ``--address``;
engine ``vasp`` writes INCAR/KPOINTS/POSCAR(/POTCAR) per run and a SLURM array script. The
composites are all combinations of --a1, --a2, --b and --x (defaults: Table 1 of the original work,
165 composites). Finished runs are skipped, so re-running the same command resumes a campaign.
"""

from __future__ import annotations

import argparse
import sys

from data_prep import CELLS, CONFIGURATIONS
from data_prep.composite import TABLE1_A1, TABLE1_A2, TABLE1_X
from data_prep.dft.bond_rules import DEFAULT_RULE, RULES
from data_prep.dft.progress import HEARTBEAT_S

LABEL_PAIR = ("FM", "AFM-Neel")  # the two runs whose energies label a composite


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs", help="campaign folder (default: runs)")
    p.add_argument("--engine", choices=("gpaw", "vasp"), default="gpaw")
    p.add_argument("--a1", nargs="+", default=list(TABLE1_A1),
                   help=f"A1 elements (default {' '.join(TABLE1_A1)})")
    p.add_argument("--a2", nargs="+",
                   help=f"A2 elements (default: Table 1, {TABLE1_A2[0]}..{TABLE1_A2[-1]})")
    p.add_argument("--b", nargs="+", help="B pairs such as GeGe GeSi (default: Table 1)")
    p.add_argument("--x", nargs="+", help=f"X elements (default {' '.join(TABLE1_X)})")
    p.add_argument("--configs", nargs="+", default=list(LABEL_PAIR),
                   help=f"{' '.join(CONFIGURATIONS)} (default {' '.join(LABEL_PAIR)})")
    p.add_argument("--cell", choices=CELLS, default=CELLS[0],
                   help="auto: 10-atom cell, the rectangular 4-A cell for zigzag/stripy; "
                   "rectangular: every configuration in the 4-A cell (one k-mesh, for J1-J3)")
    p.add_argument("--geometry", choices=RULES, default=DEFAULT_RULE,
                   help="bond-length rule of the prototype (data_prep.dft.bond_rules; default "
                   "%(default)s): ionic (high-spin ionic A-X radii) or covalent (rule of the Te "
                   "and Se campaigns)")
    p.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="engine parameter, e.g. --set h=0.25 --set kpts=2,2,1 --set basis=sz",
    )
    p.add_argument(
        "--from",
        dest="from_run",
        metavar="RUN_JSON",
        help="reproduce one run from its magvox_run.json (decoration, config, params)",
    )
    p.add_argument("--address", help="existing Ray cluster (default: a local one)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray cluster (default: all)")
    p.add_argument("--retry-failed", action="store_true", help="redo failed/unconverged runs")
    p.add_argument("--heartbeat", type=_seconds, default=HEARTBEAT_S, metavar="SECONDS",
                   help="when output is not a terminal: one line per run in flight every SECONDS "
                   "(default %(default)g); on a terminal a status line is redrawn in place")
    p.add_argument("--dry-run", action="store_true", help="list the runs, compute nothing")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from data_prep.dft.generate import specs_from_args, specs_from_record
    from search.tune.overrides import parse_sets

    try:
        if args.from_run:
            specs, params = specs_from_record(Path(args.from_run))
        else:
            specs = specs_from_args(args.a1, args.a2, args.b, args.x, args.configs, args.cell,
                                    args.geometry)
            params = {}
        params.update(parse_sets(args.params))
        if args.engine == "gpaw":  # a bad parameter is refused before any run starts
            from data_prep.dft.gpaw_engine import GpawParameters

            GpawParameters.from_dict(params)
        if params.get("geometry_from"):  # Ray workers may start in another folder
            params["geometry_from"] = str(Path(params["geometry_from"]).resolve())
            if not Path(params["geometry_from"]).is_dir():
                raise ValueError(f"geometry_from: {params['geometry_from']} is not a folder")
    except (ValueError, OSError, KeyError) as exc:
        print(f"magvox generate: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.dry_run:
        for s in specs:
            print(s.relpath)
        print(f"{len(specs)} runs")
        return 0
    if args.engine == "vasp":
        from data_prep.dft.vasp_inputs import write_vasp_campaign

        print(write_vasp_campaign(specs, out, params))
        return 0
    from data_prep.dft.campaign import check_geometry, run_campaign
    from data_prep.dft.progress import LiveReporter

    try:
        check_geometry(specs, out)
    except ValueError as exc:
        print(f"magvox generate: error: {exc}", file=sys.stderr)
        return 2
    from data_prep.ray_local import RayStartError

    try:
        records = run_campaign(specs, out, params, address=args.address, num_cpus=args.num_cpus,
                               retry_failed=args.retry_failed or bool(args.from_run),
                               reporter=LiveReporter(heartbeat_s=args.heartbeat))  # fmt: skip
    except RayStartError as exc:
        print(f"magvox generate: error: {exc}", file=sys.stderr)
        return 1
    bad = [r for r in records if r.get("status") != "ok"]
    print(f"done: {len(records) - len(bad)} ok, {len(bad)} failed or unconverged")
    return 3 if bad else 0
