"""Signed requests as each provider sends them, built from the providers' documented recipes.

Each :class:`Case` can produce a correctly signed request (``signed``), and the tests
derive bad, missing, stale and replayed variants from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from standardwebhooks import Webhook

BASE = "http://testserver"
Signer = Callable[["Case", bytes, str, float], dict[str, str]]


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def hmac_b64(secret: str, message: bytes, algorithm: Any = hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, algorithm).digest()).decode()


def stripe(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    t = str(int(now))
    return {"stripe-signature": f"t={t},v1={hmac_hex(secret, t.encode() + b'.' + body)}"}


def calendly(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    t = str(int(now))
    return {"calendly-webhook-signature": f"t={t},v1={hmac_hex(secret, t.encode() + b'.' + body)}"}


def shopify(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    return {
        "x-shopify-hmac-sha256": hmac_b64(secret, body),
        "x-shopify-shop-domain": f"{case.account}.myshopify.com",
        "x-shopify-topic": "orders/create",
        "x-shopify-webhook-id": hashlib.md5(body).hexdigest(),  # noqa: S324 - an id, not security
    }


def slack(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    t = str(int(now))
    signature = "v0=" + hmac_hex(secret, b"v0:" + t.encode() + b":" + body)
    return {"x-slack-signature": signature, "x-slack-request-timestamp": t}


def twilio(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    params = sorted(parse_qsl(body.decode()))
    data = case.url + "".join(key + value for key, value in params)
    return {"x-twilio-signature": hmac_b64(secret, data.encode(), hashlib.sha1)}


def hubspot(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    t = str(int(now * 1000))
    source = b"POST" + case.url.encode() + body + t.encode()
    return {"x-hubspot-signature-v3": hmac_b64(secret, source), "x-hubspot-request-timestamp": t}


def meta(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    return {"x-hub-signature-256": "sha256=" + hmac_hex(secret, body)}


def square(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    return {"x-square-hmacsha256-signature": hmac_b64(secret, case.url.encode() + body)}


def standard(case: Case, body: bytes, secret: str, now: float) -> dict[str, str]:
    msg_id = "msg_" + hashlib.sha256(body).hexdigest()[:20]
    moment = datetime.fromtimestamp(int(now), UTC)
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signature,
    }


@dataclass
class Case:
    """One provider: its account, a body maker (n makes distinct events) and a signer."""

    provider: str
    key: str
    new_account: Callable[[str], str]
    body_of: Callable[[int, str], bytes]
    signer: Signer
    signature_header: str
    timestamped: bool
    topic: str
    content_type: str = "application/json"
    route_by_connection: bool = False
    secret: str = "s3cr3t-for-tests"
    path: str = field(default="")
    account: str = ""

    @property
    def url(self) -> str:
        return BASE + self.path

    @property
    def identifier(self) -> dict[str, str]:
        return {self.key: self.account}

    def make_body(self, n: int) -> bytes:
        return self.body_of(n, self.account)

    def signed(
        self, n: int = 1, now: float | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        body = self.make_body(n)
        headers = self.signer(
            self, body, secret or self.secret, time.time() if now is None else now
        )
        return body, {"content-type": self.content_type, **headers}


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


CASES = [
    Case("stripe", "account_id", lambda u: f"acct_{u}",
         lambda n, a: _json({"id": f"evt_{n}", "type": "invoice.paid", "account": a}),
         stripe, "stripe-signature", True, "stripe.invoice.paid"),
    Case("shopify", "shop", lambda u: f"shop-{u}", lambda n, a: _json({"id": n, "total": "9.99"}),
         shopify, "x-shopify-hmac-sha256", False, "shopify.orders.create"),
    Case("slack", "team_id", lambda u: "T" + u.upper()[:10],
         lambda n, a: _json({"type": "event_callback", "team_id": a, "event_id": f"Ev{n}",
                             "event": {"type": "app_mention", "text": "hi"}}),
         slack, "x-slack-signature", True, "slack.app_mention"),
    Case("twilio", "account_sid", lambda u: "AC" + (u * 4)[:32],
         lambda n, a: urlencode({"AccountSid": a, "MessageSid": f"SM{n}",
                                 "MessageStatus": "delivered", "Body": "hello world"}).encode(),
         twilio, "x-twilio-signature", False, "twilio.delivered",
         content_type="application/x-www-form-urlencoded"),
    Case("hubspot", "portal_id", lambda u: str(int(u, 16))[:12],
         lambda n, a: _json([{"eventId": n, "portalId": int(a), "subscriptionType": "contact.creation"}]),
         hubspot, "x-hubspot-signature-v3", True, "hubspot.contact.creation"),
    Case("facebook_messenger", "page_id", lambda u: str(int(u, 16))[:15].rjust(5, "1"),
         lambda n, a: _json({"object": "page", "entry": [{"id": a, "time": n,
                                                          "messaging": [{"message": {"text": "hi"}}]}]}),
         meta, "x-hub-signature-256", False, "facebook_messenger.page"),
    Case("calendly", "organization", lambda u: f"ORG{u}",
         lambda n, a: _json({"event": "invitee.created", "payload": {"uri": f"https://api.calendly.com/x/{n}"}}),
         calendly, "calendly-webhook-signature", True, "calendly.invitee.created",
         route_by_connection=True),
    Case("square", "merchant_id", lambda u: f"M{u}",
         lambda n, a: _json({"merchant_id": a, "type": "payment.updated", "event_id": f"e{n}"}),
         square, "x-square-hmacsha256-signature", False, "square.payment.updated"),
    Case("custom_webhook", "host", lambda u: f"h{u}.example.com",
         lambda n, a: _json({"type": "QR_SCANNED", "data": {"n": n}}),
         standard, "webhook-signature", True, "custom_webhook.QR_SCANNED",
         route_by_connection=True, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
]  # fmt: skip
