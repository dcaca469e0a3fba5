"""docs/providers.md is the generated provider table, kept in step with the code."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from switchyard.cli import providers as providers_cli

DOC = Path(__file__).resolve().parents[3] / "docs" / "providers.md"
runner = CliRunner()


def test_docs_providers_md_is_what_the_command_generates() -> None:
    """Regenerate with `switchyard providers list --format markdown > docs/providers.md`."""
    result = runner.invoke(providers_cli.app, ["list", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert DOC.read_text() == result.output


def test_the_table_has_a_row_per_provider_with_its_actions_and_models() -> None:
    """Every catalog provider has a row; HubSpot's lists its actions, models and references."""
    result = runner.invoke(providers_cli.app, ["list", "--format", "markdown"])
    rows = [line for line in result.output.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 57
    hubspot = next(row for row in rows if "(`hubspot`)" in row)
    assert "add_note, create_deal, upsert_contact" in hubspot and "contacts, deals" in hubspot
    assert "<https://developers.hubspot.com/docs/api/crm/search>" in hubspot


def test_an_unknown_format_is_refused_by_name() -> None:
    """--format yaml exits 2 naming the formats."""
    result = runner.invoke(providers_cli.app, ["list", "--format", "yaml"])
    assert result.exit_code == 2 and "table, json or markdown" in result.output
