"""`switchyard dlq` against the runtime's own database (and Redis, on servers)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from storage.models import Organization
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from switchyard.cli import _register, app, common, progress
from switchyard.runtime import Runtime
from tests.integration.dlq.conftest import audit_events, dead_job, dead_jobs, park
from tests.integration.workers.test_pipeline import drain

UNKNOWN = "f" * 32


@pytest.fixture
def env(runtime: Runtime, clean_env: Path) -> dict[str, str]:
    """Environment pointing the CLI at the test runtime's database, Redis and namespace."""
    s = runtime.settings
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
    return CliRunner().invoke(app, ["dlq", *args], env=env, input=stdin)


def test_list_json_and_table(
    env: dict[str, str], runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """list --json gives items, total and paging; without --json a table shows the ids."""
    monkeypatch.setattr(common.console, "width", 160)
    ids = {park(runtime, org_id) for _ in range(2)}
    with runtime.sessions() as session:
        name = session.get(Organization, org_id).name  # type: ignore[union-attr]
    listed = run(env, "list", "--org", name, "--json")
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    assert {i["id"] for i in page["items"]} == ids and page["total"] == 2
    table = run(env, "list", "--org", org_id, "--provider", "hubspot", "--kind", "action")
    assert table.exit_code == 0 and all(i in table.stdout for i in ids)
    assert "of 2" in table.stdout


def test_show_json_and_unknown_id(env: dict[str, str], runtime: Runtime, org_id: str) -> None:
    """show --json prints the envelope; an unknown id exits 2 naming it."""
    dead_id = park(runtime, org_id)
    shown = run(env, "show", dead_id, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["envelope"]["correlation_id"] == "corr-1"
    assert run(env, "show", dead_id).exit_code == 0
    missing = run(env, "show", UNKNOWN)
    assert missing.exit_code == 2 and UNKNOWN in missing.stderr


def replay_on_servers(env: dict[str, str], runtime: Runtime, *args: str) -> Result | None:
    """Run ``dlq replay``; on the embedded default check it is refused and return None.

    The embedded broker lives inside one process, so a replay from another shell would be
    lost: the CLI refuses it, naming SWITCHYARD_REDIS_URL, and marks nothing replayed.
    """
    result = run(env, "replay", *args)
    if not runtime.settings.embedded:
        return result
    assert result.exit_code == 2 and "SWITCHYARD_REDIS_URL" in result.stderr
    with runtime.sessions() as session:
        replayed = AdminDeadJobRepository(session).count(DeadJobFilter(replayed=True))
    assert replayed == 0
    return None


def test_replay_prints_ids_and_the_replay_lands_again(
    env: dict[str, str], runtime: Runtime, org_id: str, teleport: dict[str, Any]
) -> None:
    """replay --id prints dead id -> new job id; the failing replay is dead-lettered again."""
    runtime.enqueuer.enqueue(teleport)
    drain(runtime)
    [first] = dead_jobs(runtime, org_id)
    result = replay_on_servers(env, runtime, "--id", first.id)
    if result is None:
        return
    assert result.exit_code == 0, result.output
    assert "replayed 1 dead job(s)" in result.stdout and first.id in result.stdout
    drain(runtime)
    again = next(d for d in dead_jobs(runtime, org_id) if d.id != first.id)
    assert f"{first.id} -> new job {again.job_id}" in result.stdout
    [event] = audit_events(runtime, org_id, "dlq.replayed")
    assert event.actor == "cli"


def test_replay_by_filter_reports_refused_and_exits_1(
    env: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """Refused dead jobs are listed with their reason; the others are replayed; exit 1."""
    fine = park(runtime, org_id)
    removed = park(runtime, org_id, provider="myspace")
    result = replay_on_servers(env, runtime, "--org", org_id, "--json")
    if result is None:
        return
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [r["dead_job_id"] for r in report["replayed"]] == [fine]
    assert report["refused"][0]["dead_job_id"] == removed
    assert "unknown provider 'myspace'" in report["refused"][0]["reason"]


def test_replay_all_replays_everything_not_yet_replayed(
    env: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """--all replays with no filter at all."""
    ids = {park(runtime, org_id) for _ in range(2)}
    result = replay_on_servers(env, runtime, "--all", "--json")
    if result is None:
        return
    replayed = {r["dead_job_id"] for r in json.loads(result.stdout)["replayed"]}
    assert ids <= replayed


@pytest.mark.parametrize("command", ["replay", "purge"])
def test_no_filter_needs_all(
    env: dict[str, str], runtime: Runtime, org_id: str, command: str
) -> None:
    """replay/purge with no filter exits 2 pointing at --all; nothing happens."""
    dead_id = park(runtime, org_id)
    result = run(env, command, "--yes") if command == "purge" else run(env, command)
    assert result.exit_code == 2 and "--all" in result.stderr
    assert dead_job(runtime, dead_id).replay_count == 0


def test_purge_yes_prints_the_ids(env: dict[str, str], runtime: Runtime, org_id: str) -> None:
    """purge --yes deletes the selection and prints how many and which."""
    doomed = park(runtime, org_id, error_class="permanent")
    kept = park(runtime, org_id)
    result = run(env, "purge", "--org", org_id, "--error-class", "permanent", "--yes")
    assert result.exit_code == 0, result.output
    assert "purged 1 dead job(s)" in result.stdout and doomed in result.stdout
    assert [d.id for d in dead_jobs(runtime, org_id)] == [kept]


def test_purge_asks_first(env: dict[str, str], runtime: Runtime, org_id: str) -> None:
    """Without --yes purge asks; answering no (or no stdin) purges nothing."""
    dead_id = park(runtime, org_id)
    declined = run(env, "purge", "--id", dead_id, stdin="n\n")
    assert declined.exit_code == 1 and "Purge 1 dead job(s)" in declined.stdout
    assert run(env, "purge", "--id", dead_id).exit_code == 1
    assert [d.id for d in dead_jobs(runtime, org_id)] == [dead_id]
    assert run(env, "purge", "--id", dead_id, stdin="y\n").exit_code == 0
    assert dead_jobs(runtime, org_id) == []


def test_purge_all_with_yes(env: dict[str, str], runtime: Runtime, org_id: str) -> None:
    """purge --all --yes empties the dead-letter queue."""
    park(runtime, org_id)
    result = run(env, "purge", "--all", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert dead_jobs(runtime, org_id) == []


@pytest.mark.parametrize("command", ["replay", "purge", "list"])
def test_unknown_and_purged_ids_exit_2_naming_them(
    env: dict[str, str], runtime: Runtime, org_id: str, command: str
) -> None:
    """An unknown id, or one purged earlier, exits 2 naming it."""
    dead_id = park(runtime, org_id)
    yes = ["--yes"] if command == "purge" else []
    unknown = run(env, command, "--id", dead_id, "--id", UNKNOWN, *yes)
    assert unknown.exit_code == 2 and UNKNOWN in unknown.stderr and dead_id not in unknown.stderr
    assert run(env, "purge", "--id", dead_id, "--yes").exit_code == 0
    purged = run(env, command, "--id", dead_id, *yes)
    assert purged.exit_code == 2 and dead_id in purged.stderr and "purged" in purged.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--since", "yesterday"], "--since:"),
        (["--until", "2026-11-01T09:00:00"], "--until:"),
        (["--since", "1h", "--until", "2h"], "--until:"),
        (["--kind", "teleport"], "--kind:"),
        (["--limit", "0"], "--limit:"),
        (["--limit", "10001"], "--limit:"),
        (["--org", "ghost-org"], "--org:"),
        (["--error-class", ""], "--error-class:"),
        (["--all", "--provider", "slack"], "--all:"),
    ],
)
@pytest.mark.parametrize("command", ["list", "replay", "purge"])
def test_malformed_filters_exit_2_naming_the_option(
    env: dict[str, str], command: str, args: list[str], option: str
) -> None:
    """Each malformed filter exits 2 with the option at fault."""
    if command == "list" and args[0] == "--all":
        return
    result = run(env, command, *args, "--yes") if command == "purge" else run(env, command, *args)
    assert result.exit_code == 2, result.output
    assert option in result.stderr


def test_show_and_replay_accept_a_unique_id_prefix(
    env: dict[str, str], runtime: Runtime, org_id: str
) -> None:
    """show and --id take the first characters of an id, as people copy them."""
    dead_id = park(runtime, org_id)
    shown = run(env, "show", dead_id[:9], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == dead_id
    listed = run(env, "list", "--id", dead_id[:9], "--json")
    assert [item["id"] for item in json.loads(listed.stdout)["items"]] == [dead_id]


def test_piped_list_shows_whole_ids(env: dict[str, str], runtime: Runtime, org_id: str) -> None:
    """Piped (no terminal, default width) the table keeps every id whole."""
    ids = {park(runtime, org_id) for _ in range(2)}
    table = run(env, "list", "--org", org_id)
    assert table.exit_code == 0 and all(i in table.stdout for i in ids)
    assert "…" not in table.stdout


def test_purge_draws_a_progress_bar_on_a_terminal(
    env: dict[str, str], runtime: Runtime, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """purge on a terminal counts the dead jobs it deletes (done/total) on stderr."""
    screen = io.StringIO()
    monkeypatch.setattr(progress, "errors", Console(file=screen, force_terminal=True, width=100))
    for _ in range(3):
        park(runtime, org_id)
    result = run(env, "purge", "--org", org_id, "--yes")
    assert result.exit_code == 0, result.output
    assert "purging" in screen.getvalue() and "3/3" in screen.getvalue()
    assert "━" not in result.stdout
