"""The operator CLI on the embedded default: orgs, API keys, keys, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from switchyard.cli import _register, app


@pytest.fixture
def cli(clean_env: Path) -> CliRunner:
    """A CLI runner whose embedded data dir is a fresh temporary directory."""
    _register()
    return CliRunner()


def run(cli: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    return cli.invoke(app, list(args), env=env)


def test_orgs_create_and_list(cli: CliRunner) -> None:
    """An org created from the CLI is listed with its weight."""
    created = run(cli, "orgs", "create", "acme", "--weight", "3")
    assert created.exit_code == 0, created.output
    org = json.loads(created.stdout)
    listed = json.loads(run(cli, "orgs", "list", "--json").stdout)
    assert [(o["id"], o["name"], o["weight"]) for o in listed] == [(org["id"], "acme", 3)]


@pytest.mark.parametrize("name", ["Acme Corp", "acme!", "a"])
def test_orgs_create_refuses_bad_names(cli: CliRunner, name: str) -> None:
    """A name that is not a slug is refused, naming the argument."""
    result = run(cli, "orgs", "create", name)
    assert result.exit_code == 2
    assert "NAME:" in result.stderr


def test_orgs_create_refuses_duplicates(cli: CliRunner) -> None:
    """A second org with the same name is refused."""
    assert run(cli, "orgs", "create", "acme").exit_code == 0
    result = run(cli, "orgs", "create", "acme")
    assert result.exit_code == 2 and "acme" in result.stderr


def test_api_key_is_shown_once_and_never_listed(cli: CliRunner) -> None:
    """create prints the key; list shows its prefix but never the key; revoke hides it."""
    run(cli, "orgs", "create", "acme")
    created = json.loads(run(cli, "api-keys", "create", "--org", "acme").stdout)
    assert created["key"].startswith("sy_") and created["scope"] == "org"
    listing = run(cli, "api-keys", "list", "--json").stdout
    assert created["key"] not in listing
    [row] = json.loads(listing)
    assert created["key"].startswith(row["prefix"])
    assert run(cli, "api-keys", "revoke", created["id"]).exit_code == 0
    assert json.loads(run(cli, "api-keys", "list", "--json").stdout) == []


def test_admin_key_has_no_org(cli: CliRunner) -> None:
    """--admin creates an admin-scoped key."""
    created = json.loads(run(cli, "api-keys", "create", "--admin").stdout)
    assert created["scope"] == "admin" and created["org_id"] is None


@pytest.mark.parametrize("args", [[], ["--org", "acme", "--admin"]])
def test_api_key_scope_must_be_exactly_one(cli: CliRunner, args: list[str]) -> None:
    """Neither or both of --org/--admin is refused."""
    result = run(cli, "api-keys", "create", *args)
    assert result.exit_code == 2 and "exactly one of --org ORG or --admin" in result.stderr


def test_api_key_for_unknown_org_is_refused(cli: CliRunner) -> None:
    """--org naming no organization is refused, naming the option."""
    result = run(cli, "api-keys", "create", "--org", "ghost")
    assert result.exit_code == 2 and "--org:" in result.stderr


def test_revoking_unknown_key_is_refused(cli: CliRunner) -> None:
    """Revoking an id that does not exist is refused, naming the argument."""
    result = run(cli, "api-keys", "revoke", "nope")
    assert result.exit_code == 2 and "KEY_ID:" in result.stderr


def test_enqueue_refuses_embedded_mode(cli: CliRunner) -> None:
    """Without Redis, enqueue from the shell is refused instead of losing the job."""
    run(cli, "orgs", "create", "acme")
    result = run(cli, "enqueue", "--org", "acme", "--provider", "hubspot", "--kind", "action")
    assert result.exit_code == 2 and "SWITCHYARD_REDIS_URL is not set" in result.stderr


def test_invalid_setting_is_named_at_start(cli: CliRunner) -> None:
    """A bad environment variable stops the command with its name."""
    result = run(cli, "orgs", "list", env={"SWITCHYARD_WORKERS__THREADS": "-1"})
    assert result.exit_code == 2 and "SWITCHYARD_WORKERS__THREADS" in result.stderr


def test_keys_generate_prints_a_usable_key_item(cli: CliRunner) -> None:
    """keys generate prints kid:key that a KeyRing accepts and round-trips."""
    from storage.crypto import KeyRing

    item = run(cli, "keys", "generate", "--kid", "k7").stdout.strip()
    assert item.startswith("k7:")
    ring = KeyRing([item])
    assert ring.decrypt(ring.encrypt("x", associated_data="a"), associated_data="a").reveal() == "x"
