"""A live ``switchyard api`` (uvicorn in a thread) on real Redis and PostgreSQL, seeded with
two orgs, and headless Chromium driven by Playwright — the system ``/usr/bin/chromium``,
never a downloaded browser. Without Chromium or Playwright the tests skip, and fail under
``SWITCHYARD_REQUIRE_SERVICES=1`` (as a missing Redis does)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from providers.sandbox import Sandbox
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from storage.repositories.events import EventRepository
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.webhook_deliveries import AttemptRecord, WebhookDeliveryRepository
from switchyard.api.app import create_app
from switchyard.console.pages.dead_letters import PAGE_SIZE
from switchyard.runtime import Runtime, build_runtime
from switchyard.service_deps import connection_deps
from switchyard.services import webhooks as webhook_admin
from switchyard.services.routes import create_route
from tests.conftest import _SESSION_NAMESPACES, runtime_settings, unavailable, unique
from tests.integration.actions.connections import connect
from tests.integration.routes.qr_route import QR_ROUTE, connect_qr_providers

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("CONSOLE_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "switchyard-console-screenshots"
)
"""Where each page's screenshot goes: a temp dir, or ``docs/console`` (what the README
shows) when ``make screenshots`` sets ``CONSOLE_SCREENSHOTS``; runs leave the tree clean."""
SLACK_URL = "https://hooks.slack.com/services/T0SECRET/B0SECRET/XyZsecretPart"
DESKTOP = {"width": 1100, "height": 720}


@dataclass
class Seeded:
    """What the console serves: the runtime, its URL, two orgs with keys and objects."""

    rt: Runtime
    url: str
    admin: str
    org_a: str
    key_a: str
    org_b: str
    key_b: str
    objects: dict[str, str]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless system Chromium, per module: Playwright's sync API keeps an event loop
    running while it is open, which would break ``asyncio.run`` in later tests of the
    same worker."""
    if not CHROMIUM.exists():
        unavailable("Chromium", FileNotFoundError(str(CHROMIUM)))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable("Playwright", exc)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """The API (console included) served on a free loopback port, on real services."""
    namespace = "t" + uuid.uuid4().hex[:10]
    _SESSION_NAMESPACES.add(namespace)
    settings = runtime_settings(
        backend="servers",
        tmp_path=tmp_path_factory.mktemp("console"),
        namespace=namespace,
        request=request,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1))
    try:
        with _served(rt) as url:
            yield _seed(rt, url)
    finally:
        rt.close()


def _seed(rt: Runtime, url: str) -> Seeded:
    with rt.sessions.begin() as session:
        orgs, keys = OrganizationRepository(session), ApiKeyRepository(session)
        a, b = orgs.create(unique("acme")).id, orgs.create(unique("globex")).id
        admin = keys.create(None, "ops").key.reveal()
        key_a, key_b = (
            keys.create(a, "console").key.reveal(),
            keys.create(b, "console").key.reveal(),
        )
    for org in (a, b):
        connect(rt, org, "stripe")
    connect_qr_providers(rt, a)
    create_route(rt.sessions, rt.catalog, a, QR_ROUTE)
    endpoint = webhook_admin.create_endpoint(
        rt.sessions,
        rt.keyring,
        a,
        {"url": SLACK_URL, "description": "ops-alerts"},
        policy=rt.outbound_policy,
    )
    objects = {
        "delivery": _failed_delivery(rt, a, endpoint["id"]),
        "endpoint": endpoint["id"],
        "endpoint_secret": endpoint["secret"],
        "dead_a": _dead(rt, a, "noop", "transient", "HubSpot answered 503 on 5 attempts"),
        "dead_b": _dead(rt, b, "noop", "transient", "HubSpot answered 503 on 5 attempts"),
        "connection_b": _connection_id(rt, b),
    }
    for provider, action, error_class, message in EXTRA_DEAD:
        _dead(rt, a, action, error_class, message, provider)
    for n in range(PAGE_SIZE + 5):  # org B's dead letters fill more than one page
        _dead(rt, b, "noop", "transient", f"Stripe timed out (seeded {n})")
    return Seeded(rt, url, admin, a, key_a, b, key_b, objects)


EXTRA_DEAD = [
    ("hubspot", "upsert_contact", "permanent", "HubSpot refused the contact: 400 INVALID_EMAIL"),
    ("slack", "post_message", "auth", "Slack answered 401 invalid_auth after a refresh"),
    ("google_sheets", "append_row", "rate_limited", "Sheets quota exhausted after 5 deferrals"),
]


def _dead(
    rt: Runtime, org: str, action: str, error_class: str, message: str, provider: str = "hubspot"
) -> str:
    """One dead job as the dead-letter middleware writes it; replaying a noop succeeds."""
    job_id = uuid.uuid4().hex
    envelope = {
        "id": job_id,
        "kind": "action",
        "org_id": org,
        "provider": provider,
        "connection": "default",
        "payload": {"action": action},
        "priority": 5,
        "correlation_id": "order-" + job_id[:6],
    }
    failed = FailedJob(
        job_id=job_id,
        org_id=org,
        queue="action",
        kind="action",
        provider=provider,
        envelope=envelope,
        error_class=error_class,
        error_message=message,
        traceback_summary=f"workers.errors.JobError: {message}",
        attempts=5,
    )
    with rt.sessions.begin() as session:
        return AdminDeadJobRepository(session).add(failed).id


def _failed_delivery(rt: Runtime, org: str, endpoint_id: str) -> str:
    """A delivery whose two attempts failed (a 503, then a timeout), as a worker logs them."""
    with rt.sessions.begin() as session:
        event, _ = EventRepository(session, org).record("order.paid", {"order": "A-1"})
        deliveries = WebhookDeliveryRepository(session, org)
        delivery = deliveries.ensure(endpoint_id, event)
        deliveries.record_attempt(
            delivery, AttemptRecord("retried", 503, 84, "busy"), status="pending"
        )
        deliveries.record_attempt(
            delivery, AttemptRecord("failed", None, 10_000, error="read timeout"), status="failed"
        )
        return delivery.id


def _connection_id(rt: Runtime, org: str) -> str:
    from switchyard.services.connections.records import list_connections

    return str(list_connections(connection_deps(rt), org, provider="stripe")[0]["id"])


class _Served:
    def __init__(self, rt: Runtime) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "console server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _served(rt: Runtime) -> _Served:
    return _Served(rt)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies) at desktop size."""
    ctx = browser.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


def sign_in(context: Any, console: Seeded, key: str) -> Any:
    """Sign in through the form; returns the page, on the Overview."""
    page = context.new_page()
    page.goto(f"{console.url}/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/overview")
    return page


def shot(page: Any, name: str) -> None:
    """Save the page as ``<SCREENSHOTS>/<name>.png``, once the page has settled. Chromium
    on a loaded host sometimes answers "Unable to capture screenshot" while it is still
    compositing: the capture is tried three times before the test fails on it."""
    from playwright.sync_api import Error as PlaywrightError

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    for attempt in range(3):
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
            return
        except PlaywrightError:
            if attempt == 2:
                raise
            page.wait_for_timeout(500)
