"""`switchyard webhooks` against the runtime's own database (and Redis, on servers)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from switchyard.cli import _register, app, progress
from switchyard.runtime import Runtime
from tests.integration.webhooks.receiver import Answer, Receiver
from workers.inprocess import run_until_idle

pytestmark = pytest.mark.integration


@pytest.fixture
def env(hooks_runtime: Runtime, clean_env: Path) -> dict[str, str]:
    """Environment pointing the CLI at the test runtime's database, Redis and namespace."""
    s = hooks_runtime.settings
    _register()
    found = {
        "SWITCHYARD_DATA_DIR": str(s.data_dir),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
        "SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS": ",".join(s.outbound.allowed_networks),
    }
    if not s.embedded:
        assert s.redis_url and s.database_url
        found["SWITCHYARD_REDIS_URL"] = s.redis_url
        found["SWITCHYARD_DATABASE_URL"] = s.database_url
        found["SWITCHYARD_SECURITY__ENCRYPTION_KEYS"] = ",".join(s.security.encryption_keys)
    return found


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, ["webhooks", *args], env=env)


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_endpoint_lifecycle_shows_the_secret_only_when_issued(
    env: dict[str, str], hooks_org: str
) -> None:
    """create and rotate-secret print a secret; list, disable and enable never do."""
    made = as_json(
        run(
            env,
            "endpoints",
            "create",
            "--org",
            hooks_org,
            "--url",
            "https://e.com/in",
            "--event-type",
            "QR_SCANNED",
            "--ordered",
            "--json",
        )
    )
    secret = made["secret"]
    assert secret.startswith("whsec_") and made["ordered"] and made["event_types"] == ["QR_SCANNED"]
    listed = run(env, "endpoints", "list", "--org", hooks_org, "--json")
    assert secret not in listed.stdout and as_json(listed)[0]["id"] == made["id"]
    disabled = as_json(run(env, "endpoints", "disable", made["id"], "--org", hooks_org, "--json"))
    assert disabled["enabled"] is False
    enabled = run(env, "endpoints", "enable", made["id"], "--org", hooks_org)
    assert enabled.exit_code == 0 and secret not in enabled.stdout
    rotated = run(env, "endpoints", "rotate-secret", made["id"], "--org", hooks_org)
    assert rotated.exit_code == 0 and "not be shown again" in rotated.stdout
    assert "whsec_" in rotated.stdout and secret not in rotated.stdout


def test_bad_input_names_the_option(env: dict[str, str], hooks_org: str) -> None:
    """Unknown org, bad URL, unknown endpoint and a bad --since exit 2 with the reason."""
    assert "--org" in run(env, "endpoints", "list", "--org", "nope").output
    bad_url = run(env, "endpoints", "create", "--org", hooks_org, "--url", "ftp://x/")
    assert bad_url.exit_code == 2 and "--url" in bad_url.output
    missing = run(env, "endpoints", "disable", "f" * 32, "--org", hooks_org)
    assert missing.exit_code == 2 and "not found" in missing.output
    since = run(env, "deliveries", "list", "--org", hooks_org, "--since", "later")
    assert since.exit_code == 2 and "--since" in since.output
    neither = run(env, "deliveries", "replay", "--org", hooks_org)
    assert neither.exit_code == 2


def test_deliveries_list_and_replay(
    env: dict[str, str], hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """A failed delivery is listed; replaying it (servers) delivers it; embedded refuses."""
    receiver.then(*[Answer(503)] * 4)
    created = as_json(
        run(env, "endpoints", "create", "--org", hooks_org, "--url", receiver.url, "--json")
    )
    hooks_runtime.event_publisher.publish(hooks_org, "QR_CREATED", {"qr": 1})
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    [failed] = as_json(
        run(env, "deliveries", "list", "--org", hooks_org, "--status", "failed", "--json")
    )
    assert failed["endpoint_id"] == created["id"] and failed["last_status_code"] == 503
    replayed = run(env, "deliveries", "replay", "--org", hooks_org, "--since", "1h", "--json")
    if hooks_runtime.settings.embedded:
        assert replayed.exit_code == 2 and "SWITCHYARD_REDIS_URL" in replayed.output
        return
    assert list(as_json(replayed)["replayed"]) == [failed["id"]]
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    [done] = as_json(run(env, "deliveries", "list", "--org", hooks_org, "--json"))
    assert done["status"] == "delivered"


def test_endpoint_and_delivery_ids_accept_a_unique_prefix(
    env: dict[str, str], hooks_runtime: Runtime, hooks_org: str, receiver: Receiver
) -> None:
    """Endpoint commands, --endpoint and a replayed delivery take an id's first characters."""
    receiver.then(*[Answer(503)] * 4)
    made = as_json(
        run(env, "endpoints", "create", "--org", hooks_org, "--url", receiver.url, "--json")
    )
    endpoint = made["id"][:8]
    disabled = as_json(run(env, "endpoints", "disable", endpoint, "--org", hooks_org, "--json"))
    assert disabled["id"] == made["id"] and disabled["enabled"] is False
    as_json(run(env, "endpoints", "enable", endpoint, "--org", hooks_org, "--json"))
    hooks_runtime.event_publisher.publish(hooks_org, "QR_CREATED", {"qr": 1})
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    listed = run(env, "deliveries", "list", "--org", hooks_org, "--endpoint", endpoint, "--json")
    [failed] = as_json(listed)
    assert failed["endpoint_id"] == made["id"]
    if hooks_runtime.settings.embedded:
        return
    replayed = run(env, "deliveries", "replay", "--org", hooks_org, failed["id"][:8], "--json")
    assert list(as_json(replayed)["replayed"]) == [failed["id"]]


def test_replay_since_draws_a_progress_bar_on_a_terminal(
    env: dict[str, str],
    hooks_runtime: Runtime,
    hooks_org: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deliveries replay --since on a terminal counts the deliveries it replays on stderr
    (embedded mode refuses to replay, before drawing anything)."""
    screen = io.StringIO()
    monkeypatch.setattr(progress, "errors", Console(file=screen, force_terminal=True, width=100))
    receiver.then(*[Answer(503)] * 8)
    run(env, "endpoints", "create", "--org", hooks_org, "--url", receiver.url, "--json")
    for number in range(2):
        hooks_runtime.event_publisher.publish(hooks_org, "QR_CREATED", {"qr": number})
    run_until_idle(hooks_runtime.worker_broker, hooks_runtime.lanes, timeout_s=60)
    replayed = run(env, "deliveries", "replay", "--org", hooks_org, "--since", "1h", "--json")
    if hooks_runtime.settings.embedded:
        assert replayed.exit_code == 2 and "replaying" not in screen.getvalue()
        return
    assert len(as_json(replayed)["replayed"]) == 2
    assert "replaying" in screen.getvalue() and "2/2" in screen.getvalue()
