"""Outbound webhooks for ``switchyard demo``: an org's endpoint on a loopback receiver that
verifies every signature with the official ``standardwebhooks`` package and answers 503
once, so the demo shows a signed delivery, a retry on the schedule and the attempt log.

The demo runtime allows 127.0.0.1 through the SSRF guard (an operator setting); nothing
else changes for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.runtime import Runtime

DEMO_WEBHOOK_SETTINGS: dict[str, Any] = {
    "retry_schedule_seconds": [0, 0.3, 1],
    "retry_jitter": 0.0,
    "allowed_private_networks": ["127.0.0.1/32"],
}
EVENT = ("CONVERSION_TRACKED", {"experiment": "hero-banner", "variant": "B", "value": 42})


@dataclass
class _Receiver:
    """Answers 503 to the first delivery, then 200; checks each signature."""

    secret: str
    answers: list[int] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            Webhook(self.secret).verify(body, headers)
            ok = True
        except Exception:  # any verification failure is what the demo reports
            ok = False
        with self.lock:
            status = 503 if not self.answers else 200
            self.answers.append(status)
            self.verified.append(ok)
        return status


@dataclass
class WebhookDemo:
    """What the section keeps between starting and reporting."""

    org_id: str
    endpoint_id: str
    receiver: _Receiver
    server: ThreadingHTTPServer


def start_webhook_demo(runtime: Runtime, org_id: str) -> WebhookDemo:
    """Serve the receiver, register it as the org's endpoint, publish one event."""
    holder: dict[str, _Receiver] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    with runtime.sessions.begin() as session:
        issued = WebhookEndpointRepository(session, org_id, runtime.keyring).create(
            url, description="demo receiver", event_types=[EVENT[0]]
        )
        endpoint_id, secret = issued.endpoint.id, issued.secret.reveal()
    holder["receiver"] = receiver = _Receiver(secret)
    runtime.event_publisher.publish(org_id, EVENT[0], EVENT[1])
    return WebhookDemo(org_id, endpoint_id, receiver, server)


def webhook_demo_summary(runtime: Runtime, demo: WebhookDemo) -> dict[str, Any]:
    """The receiver's answers, whether every signature verified, and the attempt log."""
    demo.server.shutdown()
    with runtime.sessions() as session:
        repo = WebhookDeliveryRepository(session, demo.org_id)
        deliveries = list(repo.list())
        log = [
            {"attempt": a.number, "outcome": a.outcome, "status": a.status_code}
            for d in deliveries
            for a in repo.attempts(d.id)
        ]
    return {
        "event": EVENT[0],
        "receiver answered": demo.receiver.answers,
        "signatures verified by standardwebhooks": (
            f"{sum(demo.receiver.verified)}/{len(demo.receiver.verified)}"
        ),
        "delivery status": [d.status for d in deliveries],
        "attempt log": log,
    }


def _handler(holder: dict[str, _Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = holder["receiver"].answer(body, dict(self.headers.items()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler
