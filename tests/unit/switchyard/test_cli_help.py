"""Every command's --help renders for people: no crash, no raw markup, every option explained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from switchyard.cli import _register, app


def commands(
    group: Any = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) for the root and every command and group below it."""
    if group is None:
        _register()
        group = typer.main.get_command(app)
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, (*path, name))


_register()
ALL = [path for path, _ in commands()]


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) or "switchyard" for p in ALL])
def test_help_renders_without_raw_markup(path: tuple[str, ...]) -> None:
    """--help exits 0 and shows no backticks, no markup error and no <bool> on flags."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "`" not in result.stdout
    assert "<bool>" not in result.stdout


def test_every_option_has_help() -> None:
    """Each option and argument of every command says what it is for."""
    missing = [
        f"{' '.join(path)} {param.name}"
        for path, command in commands()
        for param in command.params
        if not getattr(param, "help", None) and param.name not in ("help", "debug")
    ]
    assert missing == []
