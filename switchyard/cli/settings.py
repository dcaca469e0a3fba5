"""``switchyard settings``: the effective settings, and the README's settings table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from switchyard import settings_doc
from switchyard.cli.common import fail, print_json, print_table
from switchyard.settings import SettingsError, load_settings

app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)


@app.command("show")
def show(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print every setting's value and where it came from; secrets are masked."""
    try:
        rows = settings_doc.effective(load_settings())
    except SettingsError as exc:
        fail(str(exc))
    if json_output:
        print_json(rows)
        return
    print_table(
        "Settings (source: environment, file, .env or default)",
        ("variable", "value", "source"),
        [(row["variable"], _text(row["value"]), row["source"]) for row in rows],
    )


@app.command("table")
def table(
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Replace the table between the markers in this file."),
    ] = None,
) -> None:
    """Print the Markdown table of every setting (the README's), or rewrite it in a file."""
    if write is None:
        typer.echo(settings_doc.markdown_table())
        return
    changed = settings_doc.write_readme(write)
    typer.echo(f"{write}: {'updated' if changed else 'already current'}")


def _text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
