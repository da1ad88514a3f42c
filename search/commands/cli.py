"""The ``magvox`` command: a table of subcommands, each a thin module in ``search.commands``.

Command modules import heavy libraries (torch, ray, pymatgen) inside ``run``: ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module under search.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info", "summary of a volumetric file, a run folder or a dataset"),
    "prep": ("prep", "DFT outputs -> the shared Zarr dataset"),
    "generate": ("generate", "decorate the prototype and run DFT (GPAW) or write VASP inputs"),
    "train": ("train", "train and evaluate one configuration"),
    "estimate": ("estimate", "parameters, memory and FLOPs of a configuration"),
    "bench": ("bench", "timings and ratios against reference implementations"),
    "search": ("search", "the hyperparameter search: start | resume | status | best"),
    "ui": ("ui", "the MLflow UI on a search's tracking store"),
    "predict": ("predict", "a search's best model (or a model file) applied to a dataset"),
    "explain": ("explain", "where a trained network looks: attribution maps and per-site tables"),
}


def _command_module(name: str, module: str):
    """``search.commands.<module>``; a command in the table without its module is an install or
    packaging error, raised (never a command silently missing from ``magvox --help``)."""
    try:
        return importlib.import_module(f"search.commands.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"search.commands.{module}":
            raise  # the module exists; something it imports is missing: that error as it is
        raise ImportError(f"magvox {name}: its command module search.commands.{module} is "
                          "missing (a broken install? reinstall magvox)", name=exc.name) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magvox",
        description="Hyperparameter search for 3D CNNs on DFT spin densities of 2D magnets.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        mod = _command_module(name, module)
        p = sub.add_parser(name, help=help_, description=(mod.__doc__ or help_).strip())
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
