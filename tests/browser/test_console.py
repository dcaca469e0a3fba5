"""The operator console in headless Chromium against a live API on Redis and PostgreSQL."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from storage.repositories.audit import AdminAuditRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository
from switchyard.console.guard import COOKIE
from switchyard.console.sessions import SessionStore
from switchyard.service_deps import connection_deps
from tests.browser.conftest import SLACK_URL, Seeded, shot, sign_in
from tests.integration.routes.qr_route import SCAN
from workers.inprocess import run_until_idle

PHONE = {"width": 375, "height": 740}


def nav(page: Any, section: str) -> None:
    """Follow a link of the top navigation."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=section).click()


def audited(console: Seeded, action: str) -> list[Any]:
    with console.rt.sessions() as session:
        return list(AdminAuditRepository(session).list(action=action))


def test_sign_in_shows_the_overview_with_queues_and_orgs(context: Any, console: Seeded) -> None:
    """An admin key signs in and lands on the Overview listing queues and both orgs."""
    page = sign_in(context, console, console.admin)
    assert page.title() == "Overview · Switchyard console"
    assert page.get_by_role("row", name=re.compile(r"^action")).count() == 1
    assert page.get_by_role("rowheader").filter(has_text="acme").count() >= 1
    assert any(
        e.actor.startswith("console:api-key:") for e in audited(console, "console.signed_in")
    )
    shot(page, "overview")


def test_a_wrong_key_is_refused_at_sign_in(context: Any, console: Seeded) -> None:
    """An unknown key gets the form again with the reason, and no session cookie."""
    page = context.new_page()
    page.goto(f"{console.url}/console/sign-in")
    page.get_by_label("API key").fill("sy_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Unknown or revoked API key."
    assert COOKIE not in {c["name"] for c in context.cookies()}
    shot(page, "sign-in")


def test_a_dead_letter_is_found_replayed_and_succeeds(context: Any, console: Seeded) -> None:
    """Filter to org A, open its dead letter, replay it; the new job runs and succeeds."""
    dead_id = console.objects["dead_a"]
    page = sign_in(context, console, console.admin)
    nav(page, "Dead letters")
    page.get_by_label("Org").fill(console.org_a)
    page.get_by_role("button", name="Filter", exact=True).click()
    shot(page, "dead-letters")
    page.get_by_role("link", name=dead_id[:12]).click()
    assert page.title() == f"Dead letter {dead_id} · Switchyard console"
    shot(page, "dead-letter")
    page.get_by_role("button", name="Replay", exact=True).click()
    assert page.get_by_role("status").inner_text() == "1 replayed, 0 refused."
    new_job = page.locator("tbody code").inner_text()
    run_until_idle(console.rt.worker_broker, console.rt.lanes, threads=2, timeout_s=30)
    with console.rt.sessions() as session:
        repo = AdminDeadJobRepository(session)
        assert repo.get(dead_id).replay_count == 1
        assert not repo.has_job(new_job)
    assert any(e.subject_id == dead_id for e in audited(console, "dlq.replayed"))


def test_dead_letters_page_server_side(context: Any, console: Seeded) -> None:
    """Fifty per page, newest first; "Older" opens the next page from the server."""
    page = sign_in(context, console, console.key_b)
    nav(page, "Dead letters")
    assert page.locator("p.count").inner_text() == "56 dead letters, showing 1\u201350."
    assert page.locator("tbody tr").count() == 50
    page.get_by_role("link", name="Older →").click()
    assert page.locator("p.count").inner_text() == "56 dead letters, showing 51\u201356."
    assert page.locator("tbody tr").count() == 6
    assert "offset=50" in page.url


def test_purge_asks_for_confirmation_first(context: Any, console: Seeded) -> None:
    """Purge shows how many would go and does nothing until confirmed."""
    page = sign_in(context, console, console.admin)
    page.goto(f"{console.url}/console/dead-letters/{console.objects['dead_b']}")
    page.get_by_role("button", name="Purge…").click()
    assert "Delete 1 dead letter for good?" in page.get_by_role("alert").inner_text()
    shot(page, "purge-confirmation")
    page.get_by_role("link", name="Cancel").click()
    with console.rt.sessions() as session:
        assert AdminDeadJobRepository(session).get(console.objects["dead_b"])


def test_an_endpoint_is_disabled_and_enabled_with_its_url_masked(
    context: Any, console: Seeded
) -> None:
    """Disable then enable an endpoint; its Slack-style URL and secret never show."""
    page = sign_in(context, console, console.key_a)
    nav(page, "Webhooks")
    row = page.get_by_role("row", name=re.compile("ops-alerts"))
    row.get_by_role("button", name=re.compile("^Disable")).click()
    assert "manual" in page.get_by_role("row", name=re.compile("ops-alerts")).inner_text()
    shot(page, "webhooks")
    page.get_by_role("row", name=re.compile("ops-alerts")).get_by_role(
        "button", name=re.compile("^Enable")
    ).click()
    assert "enabled" in page.get_by_role("row", name=re.compile("ops-alerts")).inner_text()
    html = page.content()
    assert "hooks.slack.com/•••" in html
    assert "XyZsecretPart" not in html and console.objects["endpoint_secret"] not in html
    assert SLACK_URL not in html
    actions = {e.action for e in audited(console, "webhook_endpoint.disabled")}
    actions |= {e.action for e in audited(console, "webhook_endpoint.enabled")}
    assert actions == {"webhook_endpoint.disabled", "webhook_endpoint.enabled"}


def test_a_failed_delivery_shows_its_attempts_and_is_replayed(
    context: Any, console: Seeded
) -> None:
    """The delivery page lists each attempt's status and timing; replay queues a new round."""
    page = sign_in(context, console, console.key_a)
    nav(page, "Webhooks")
    page.get_by_role("link", name=console.objects["delivery"][:12]).click()
    attempts = page.locator("tbody tr")
    assert attempts.count() == 2
    assert "503" in attempts.nth(0).inner_text() and "84 ms" in attempts.nth(0).inner_text()
    assert "read timeout" in attempts.nth(1).inner_text()
    shot(page, "delivery")
    page.get_by_role("button", name="Replay delivery").click()
    assert page.get_by_role("status").inner_text().startswith("Replay queued as job")
    assert audited(console, "webhook_delivery.replayed")


def test_a_connection_is_checked(context: Any, console: Seeded) -> None:
    """Check a Stripe connection from its page: the provider accepts it; no key shows."""
    page = sign_in(context, console, console.key_a)
    nav(page, "Connections")
    shot(page, "connections")
    page.get_by_role("link", name="stripe/default").click()
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("status").inner_text().startswith("Check passed (HTTP 200)")
    assert "sk_test_sandbox" not in page.content()
    shot(page, "connection")
    assert audited(console, "connection.checked")


def test_a_sync_is_triggered_and_a_route_tested(context: Any, console: Seeded) -> None:
    """Trigger a HubSpot contacts sync; dry-run the QR route on a sample scan."""
    page = sign_in(context, console, console.key_a)
    nav(page, "Syncs")
    row = page.get_by_role("row", name=re.compile("hubspot"))
    row.get_by_role("button", name="Sync now").click()
    assert page.get_by_role("status").inner_text().startswith("Sync enqueued as job")
    shot(page, "syncs")
    nav(page, "Routes")
    shot(page, "routes")
    page.get_by_role("link", name="qr-to-crm").click()
    page.get_by_label("Event data (JSON object)").fill(__import__("json").dumps(SCAN))
    page.get_by_role("button", name=re.compile("^Test")).click()
    assert page.get_by_role("status").inner_text() == "Matches the route's filter."
    assert "ada@example.com" in page.locator("section[aria-labelledby=result] pre").inner_text()
    shot(page, "route")


def test_an_org_session_cannot_open_another_orgs_objects(context: Any, console: Seeded) -> None:
    """Org A's session gets 404 for org B's dead letter and connection, and lists only A."""
    page = sign_in(context, console, console.key_a)
    for path in (
        f"dead-letters/{console.objects['dead_b']}",
        f"connections/{console.objects['connection_b']}",
        f"connections/{console.objects['connection_b']}?org_id={console.org_b}",
    ):
        answer = page.goto(f"{console.url}/console/{path}")
        assert answer.status == 404, path
        assert page.title() == "Error 404 · Switchyard console"
    page.goto(f"{console.url}/console/dead-letters?org={console.org_b}")
    assert console.objects["dead_b"][:12] not in page.content()


def test_a_form_without_the_sessions_csrf_token_is_refused(context: Any, console: Seeded) -> None:
    """A tampered token, or none, is refused with 403 and the endpoint stays enabled."""
    page = sign_in(context, console, console.key_a)
    nav(page, "Webhooks")
    page.locator("input[name=csrf]").nth(1).evaluate("e => e.value = 'forged'")
    with page.expect_response(re.compile("/disable$")) as answer:
        page.get_by_role("row", name=re.compile("ops-alerts")).get_by_role("button").click()
    assert answer.value.status == 403
    bare = page.request.post(
        f"{console.url}/console/webhooks/endpoints/{console.objects['endpoint']}/disable",
        form={"org_id": console.org_a},
        max_redirects=0,
    )
    assert bare.status == 403
    page.goto(f"{console.url}/console/webhooks")
    assert "enabled" in page.get_by_role("row", name=re.compile("ops-alerts")).inner_text()


def test_an_expired_or_signed_out_session_goes_back_to_sign_in(
    context: Any, console: Seeded
) -> None:
    """A one-second session stops working after a second; signing out ends one at once."""
    store = SessionStore(console.rt.redis, console.rt.settings.workers.namespace)
    key_id = _key_id(console)
    token = store.create(key_id, console.org_a, lifetime=timedelta(seconds=1))
    host = console.url.removeprefix("http://").split(":")[0]
    context.add_cookies([{"name": COOKIE, "value": token, "domain": host, "path": "/console"}])
    page = context.new_page()
    page.goto(f"{console.url}/console/overview")
    assert page.title() == "Overview · Switchyard console"
    time.sleep(1.2)
    page.goto(f"{console.url}/console/overview")
    assert page.title() == "Sign in · Switchyard console"
    page = sign_in(context, console, console.key_a)
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    page.get_by_role("button", name="Sign out").click()
    context.add_cookies([{**cookie}])
    page.goto(f"{console.url}/console/overview")
    assert page.title() == "Sign in · Switchyard console"


def test_actions_are_reachable_by_keyboard(context: Any, console: Seeded) -> None:
    """Tabbing from the top reaches the skip link, the navigation and the Check button."""
    page = sign_in(context, console, console.key_a)
    page.goto(f"{console.url}/console/connections/{_connection_id_a(console)}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Check":
            break
    else:
        raise AssertionError("the Check button is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("p[role=status]")
    assert page.get_by_role("status").inner_text().startswith("Check passed")


def test_pages_fit_a_phone_screen(browser: Any, console: Seeded) -> None:
    """At 375 px wide no page scrolls sideways (wide tables scroll in their own box)."""
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = sign_in(phone, console, console.admin)
        org_pages = (f"webhooks?org_id={console.org_a}", f"jobs?org_id={console.org_a}")
        for path in ("overview", "dead-letters", "jobs", *org_pages):
            page.goto(f"{console.url}/console/{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)
        page.goto(f"{console.url}/console/overview")
        shot(page, "phone-overview")
    finally:
        phone.close()


def test_pages_carry_the_security_headers(context: Any, console: Seeded) -> None:
    """CSP without inline scripts and no framing, nosniff, a referrer policy, no caching."""
    page = context.new_page()
    answer = page.goto(f"{console.url}/console/sign-in")
    headers = answer.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"


def _key_id(console: Seeded) -> str:
    from storage.repositories.api_keys import ApiKeyRepository

    with console.rt.sessions() as session:
        keys = ApiKeyRepository(session).list(org_id=console.org_a)
        return keys[0].id


def _connection_id_a(console: Seeded) -> str:
    from switchyard.services.connections.records import list_connections

    return str(
        list_connections(connection_deps(console.rt), console.org_a, provider="stripe")[0]["id"]
    )
