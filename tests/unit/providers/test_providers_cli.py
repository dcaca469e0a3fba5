"""`switchyard providers list|show|validate` and `switchyard sandbox --print-env`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from providers.registry import load_catalog
from switchyard.cli import providers as providers_cli
from switchyard.cli import sandbox as sandbox_cli
from switchyard.settings import load_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(clean_env: Path) -> None:
    """No SWITCHYARD_* variables or .env file from the caller leak into the commands."""


def test_list_json_has_auth_mode_and_rate_limit() -> None:
    """`list --json` shows every provider with its auth mode and rate-limit policy."""
    result = runner.invoke(providers_cli.app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 57
    hubspot = next(row for row in rows if row["name"] == "hubspot")
    assert hubspot["auth_mode"] == "oauth2_code"
    assert hubspot["rate_limit"]["key"] == "hubspot:{portal_id}:{app}"


def test_list_table_and_show() -> None:
    """The table lists providers; `show` accepts an alias and prints the full entry."""
    table = runner.invoke(providers_cli.app, ["list"])
    assert table.exit_code == 0 and "57 providers" in table.output
    shown = runner.invoke(providers_cli.app, ["show", "qbo", "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.output)["name"] == "quickbooks"


def test_show_unknown_suggests() -> None:
    """An unknown name exits 1 and suggests close matches."""
    result = runner.invoke(providers_cli.app, ["show", "hubspt"])
    assert result.exit_code == 1
    assert "did you mean hubspot" in result.output


def test_settings_overrides_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    """SWITCHYARD_PROVIDERS__<NAME>__BASE_URL changes what `show` reports."""
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL", "http://127.0.0.1:9/hubspot")
    result = runner.invoke(providers_cli.app, ["show", "hubspot", "--json"])
    assert json.loads(result.output)["base_url"] == "http://127.0.0.1:9/hubspot"


def test_bad_override_exits_with_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt override variable is reported by name, not ignored."""
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__HUBSPOT__BASE_ULR", "http://x")
    result = runner.invoke(providers_cli.app, ["list"])
    assert result.exit_code == 1
    assert "SWITCHYARD_PROVIDERS__HUBSPOT__BASE_ULR" in result.output


def test_validate_file_and_corrupt_file(tmp_path: Path) -> None:
    """`validate` accepts the bundled catalog and refuses a corrupted file precisely."""
    assert runner.invoke(providers_cli.app, ["validate"]).exit_code == 0
    source = Path(providers_cli.__file__).parents[2] / "providers" / "catalog" / "stripe.yaml"
    broken = tmp_path / "stripe.yaml"
    broken.write_text(source.read_text().replace("style: cursor", "style: scroll"))
    result = runner.invoke(providers_cli.app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "pagination: Input tag 'scroll'" in result.output


def test_sandbox_prints_overrides_that_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sandbox --print-env` prints loopback overrides that settings and the catalog accept,
    and the outbound allowance for exactly the sandbox's loopback address."""
    result = runner.invoke(sandbox_cli.app, ["--print-env", "--port", "9100"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("SWITCHYARD_")]
    assert "SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL=http://127.0.0.1:9100/hubspot" in lines
    assert "SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS=127.0.0.1/32" in lines
    for line in lines:
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    assert load_settings().outbound.allowed_networks == ["127.0.0.1/32"]
    catalog = load_catalog(overrides=load_settings().providers)
    shopify = catalog.get("shopify")
    assert shopify.base_url_for({"shop": "acme"}).startswith("http://127.0.0.1:9100/shopify/acme/")


def test_schema_describes_an_entry() -> None:
    """`schema` prints the JSON Schema of ProviderSpec, discriminated auth modes included."""
    result = runner.invoke(providers_cli.app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "rate_limit" in schema["required"]
    assert "OAuth2CodeAuth" in schema["$defs"]
