"""`switchyard connections` against the test runtime's database (and Redis, on servers)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from providers.sandbox import Sandbox
from storage.models.connection import Connection
from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from switchyard.service_deps import connection_deps
from switchyard.services.connections.direct import connect_direct
from tests.conftest import unique
from tests.integration.credentials.helpers import connect, connection_status, dead, proxy_job
from tests.integration.served_sandbox import sandbox_env, served
from workers.inprocess import run_until_idle


@pytest.fixture
def env(sandboxed: Runtime, clean_env: Path) -> dict[str, str]:
    """Environment pointing the CLI at the test runtime's database, Redis and namespace."""
    s = sandboxed.settings
    _register()
    found = {
        "SWITCHYARD_DATA_DIR": str(s.data_dir),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
    }
    if not s.embedded:
        assert s.redis_url and s.database_url
        found["SWITCHYARD_REDIS_URL"] = s.redis_url
        found["SWITCHYARD_DATABASE_URL"] = s.database_url
        found["SWITCHYARD_SECURITY__ENCRYPTION_KEYS"] = ",".join(s.security.encryption_keys)
    return found


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["connections", *args], env=env, input=stdin)


def named_org(rt: Runtime) -> tuple[str, str]:
    name = unique("acme")
    with rt.sessions.begin() as session:
        return name, OrganizationRepository(session).create(name).id


def test_list_show_and_disconnect_by_org_name_and_provider(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """Connections are listed and shown without secrets; disconnect by provider name works."""
    name, org = named_org(sandboxed)
    _, conn = connect(sandboxed, org=org)
    listed = run(env, "list", "--org", name, "--json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.output)["items"]
    assert item["id"] == conn and item["credential"]["auth_mode"] == "oauth2_code"
    shown = run(env, "show", "--org", name, "hubspot")
    assert shown.exit_code == 0 and conn in shown.output and "62515" in shown.output
    gone = run(env, "disconnect", "--org", org, "hubspot/default")
    assert gone.exit_code == 0 and "disconnected hubspot/default" in gone.output
    assert connection_status(sandboxed, org, conn)[0] == "disconnected"


def test_unknown_org_or_connection_exits_2_naming_it(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """An unknown --org or connection reference is refused with exit code 2."""
    name, _ = named_org(sandboxed)
    assert run(env, "list", "--org", "no-such-org").exit_code == 2
    missing = run(env, "show", "--org", name, "stripe")
    assert missing.exit_code == 2 and "CONNECTION" in missing.output


def test_import_reports_refused_lines_and_imports_the_rest(
    sandboxed: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    """Bad lines are refused by number and field, good ones imported; no token is echoed."""
    assert sandboxed.sandbox is not None
    name, org = named_org(sandboxed)
    token = sandboxed.sandbox.issue_token("hubspot")
    good = {
        "org": name,
        "provider": "hubspot",
        "account": {"portal_id": "62515"},
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "expires_at": "2099-01-01T00:00:00Z",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "provider": "nope"}),
        json.dumps({**good, "name": "b", "account": {"portal_id": "x1"}}),
        json.dumps({**good, "name": "c", "access_token": ""}),
        json.dumps({**good, "provider": "stripe"}),
        json.dumps({**good, "org": "no-such-org"}),
        json.dumps({**good, "name": "d", "expires_at": "tomorrow"}),
        json.dumps(good),
        "",
    ]
    path = tmp_path / "tokens.jsonl"
    path.write_text("\n".join(lines))
    result = run(env, "import", str(path), "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["counts"] == {"imported": 1, "refused": 8}
    assert [(r["line"], r["field"]) for r in report["refused"]] == [
        (2, "(line)"),
        (3, "provider"),
        (4, "account.portal_id"),
        (5, "access_token"),
        (6, "provider"),
        (7, "org"),
        (8, "expires_at"),
        (9, "name"),
    ]
    assert token.access_token not in result.output and str(token.refresh_token) not in result.output
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    assert dead(sandboxed, org) == []


def test_errored_or_disconnected_connection_is_reimported(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """A connection in ``error`` (revoked grant) or ``disconnected`` takes an import, which
    reconnects it; only a ``connected`` one is refused as already connected."""
    assert sandboxed.sandbox is not None
    name, org = named_org(sandboxed)
    _, broken = connect(sandboxed, org=org)
    _, gone = connect(sandboxed, org=org, name="second")
    with sandboxed.sessions.begin() as session:
        ConnectionRepository(session, org).set_status(broken, "error", error_message="revoked")
    assert run(env, "disconnect", "--org", org, "hubspot/second").exit_code == 0
    token = sandboxed.sandbox.issue_token("hubspot")
    line = {
        "org": name,
        "provider": "hubspot",
        "account": {"portal_id": "62515"},
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
    }
    lines = [json.dumps(line), json.dumps({**line, "name": "second"}), json.dumps(line)]
    result = run(env, "import", "-", "--json", stdin="\n".join(lines) + "\n")
    report = json.loads(result.output)
    assert [r["connection_id"] for r in report["imported"]] == [broken, gone], result.output
    assert [(r["line"], r["field"]) for r in report["refused"]] == [(3, "name")]
    assert connection_status(sandboxed, org, broken) == ("connected", None)
    assert connection_status(sandboxed, org, gone) == ("connected", None)
    sandboxed.enqueuer.enqueue(proxy_job(org))
    run_until_idle(sandboxed.worker_broker, sandboxed.lanes, timeout_s=20)
    assert dead(sandboxed, org) == []


def test_import_from_stdin_prints_a_summary(sandboxed: Runtime, env: dict[str, str]) -> None:
    """``import -`` reads stdin; all lines good means exit 0."""
    name, _ = named_org(sandboxed)
    line = {"org": name, "provider": "hubspot", "account": {"portal_id": "1"}, "access_token": "a"}
    result = run(env, "import", "-", stdin=json.dumps(line) + "\n")
    assert result.exit_code == 0 and "imported 1, refused 0" in result.output


def test_check_passes_for_a_good_key_and_exits_1_for_a_bad_one(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """`check` calls the catalog's check endpoint: ok for the sandbox's key, exit 1 otherwise."""
    name, org = named_org(sandboxed)
    connect_direct(
        connection_deps(sandboxed), org, "stripe", actor="t", secrets={"api_key": "sk_test_sandbox"}
    )
    connect_direct(
        connection_deps(sandboxed),
        org,
        "stripe",
        actor="t",
        name="bad",
        secrets={"api_key": "sk_bad"},
    )
    sandbox = Sandbox(seed=2)
    with served(sandbox) as root:
        reachable = {**env, **sandbox_env(sandbox, root)}
        ok = run(reachable, "check", "--org", name, "stripe")
        bad = run(reachable, "check", "--org", name, "stripe/bad", "--json")
    assert ok.exit_code == 0 and ": ok" in ok.output, ok.output
    assert bad.exit_code == 1 and json.loads(bad.output)["error_class"] == "auth"


def test_show_check_and_disconnect_accept_a_unique_id_prefix(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """A connection's first characters name it in show, check and disconnect."""
    name, org = named_org(sandboxed)
    _, conn = connect(sandboxed, org=org)
    shown = run(env, "show", "--org", name, conn[:8], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == conn
    checked = run(env, "check", "--org", name, conn[:8], "--json")
    assert checked.exit_code in (0, 1), checked.output
    assert json.loads(checked.stdout)["connection_id"] == conn
    gone = run(env, "disconnect", "--org", name, conn[:8])
    assert gone.exit_code == 0, gone.output
    assert connection_status(sandboxed, org, conn)[0] == "disconnected"


def test_id_prefix_is_looked_up_in_the_org_only(sandboxed: Runtime, env: dict[str, str]) -> None:
    """Another org's connection is never found by its prefix."""
    _, other = named_org(sandboxed)
    _, conn = connect(sandboxed, org=other)
    name, _ = named_org(sandboxed)
    missing = run(env, "show", "--org", name, conn[:8])
    assert missing.exit_code == 2 and "CONNECTION" in missing.stderr


def test_ambiguous_id_prefix_exits_2_with_the_candidate_count(
    sandboxed: Runtime, env: dict[str, str]
) -> None:
    """A prefix two of the org's connections share is refused in one line, with the count."""
    name, org = named_org(sandboxed)
    prefix = uuid.uuid4().hex[:6]
    with sandboxed.sessions.begin() as session:
        for provider in ("hubspot", "stripe"):
            session.add(
                Connection(id=prefix + uuid.uuid4().hex[:26], org_id=org, provider=provider)
            )
    result = run(env, "show", "--org", name, prefix)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: CONNECTION {prefix!r}: ambiguous prefix, 2 ids begin with it; give more"
    ]
