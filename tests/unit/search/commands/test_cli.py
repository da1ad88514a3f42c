"""The ``magvox`` command table: every listed command is built, and a command whose module is
missing is an error, not a command quietly absent from ``magvox --help``."""

from __future__ import annotations

import argparse
import importlib

import pytest

from search.commands import cli


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_of_the_table_is_in_the_parser():
    assert _commands(cli.build_parser()) == set(cli.COMMANDS)


def test_a_command_without_its_module_is_an_import_error(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "ghost", ("no_such_command", "a command never written"))
    with pytest.raises(ImportError, match=r"magvox ghost: .*search\.commands\.no_such_command"):
        cli.build_parser()
    with pytest.raises(ImportError):
        cli.main(["info", "--help"])  # not only the missing command: the whole CLI refuses


def test_a_command_module_whose_own_import_fails_raises_that_error(monkeypatch):
    real = importlib.import_module

    def broken(name: str, *args, **kwargs):
        if name == "search.commands.info":
            raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cli.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="some_dependency") as info:
        cli.build_parser()
    assert info.value.name == "some_dependency"
