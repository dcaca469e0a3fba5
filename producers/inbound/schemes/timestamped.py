"""Schemes that sign a timestamp with the body, so stale requests are refused outright:
Stripe, Calendly, Slack, HubSpot v3 and Standard Webhooks."""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import unquote

from standardwebhooks import Webhook, WebhookVerificationError

from producers.inbound.schemes.base import (
    Description,
    Incoming,
    Scheme,
    SignatureError,
    b64,
    body_digest,
    check_age,
    form_body,
    hmac_digest,
    json_body,
    same,
)
from providers.json_path import dig


def _pairs(header: str) -> tuple[str | None, list[str]]:
    """``t=123,v1=abc,v1=def`` -> ("123", ["abc", "def"]); other schemes are ignored."""
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def _json_field(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return None


class TimestampedHexScheme(Scheme):
    """``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` (Stripe's layout, Calendly's too)."""

    timestamped = True

    def verify(self, incoming: Incoming, secret: str) -> None:
        timestamp, signatures = _pairs(self.signature(incoming))
        if timestamp is None or not signatures:
            raise SignatureError("bad", f"{self.header} lacks t= or v1=")
        expected = hmac_digest(secret, timestamp.encode() + b"." + incoming.body).hex()
        if not any(same(expected, given) for given in signatures):
            raise SignatureError("bad", "no v1 signature matches")
        check_age(timestamp, incoming.now, self.tolerance)


class StripeScheme(TimestampedHexScheme):
    """Stripe: ``Stripe-Signature``; the event's ``account`` names a Connect account."""

    name = "stripe"
    header = "Stripe-Signature"

    def describe(self, incoming: Incoming) -> Description:
        event = json_body(incoming)
        return Description(
            event_id=str(dig(event, "id") or body_digest(incoming.body)),
            topic=str(dig(event, "type") or "event"),
            account=dig(event, "account"),
            payload=event,
        )


class CalendlyScheme(TimestampedHexScheme):
    """Calendly: ``Calendly-Webhook-Signature``; no event id, so the body's digest is one."""

    name = "calendly"
    header = "Calendly-Webhook-Signature"

    def describe(self, incoming: Incoming) -> Description:
        event = json_body(incoming)
        return Description(
            event_id=body_digest(incoming.body),
            topic=str(dig(event, "event") or "event"),
            payload=event,
        )


class SlackScheme(Scheme):
    """Slack: ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:ts:body">`` with
    ``X-Slack-Request-Timestamp``. Answers the Events API ``url_verification`` handshake."""

    name = "slack"
    header = "X-Slack-Signature"
    timestamped = True

    def verify(self, incoming: Incoming, secret: str) -> None:
        given = self.signature(incoming)
        timestamp = incoming.required("X-Slack-Request-Timestamp")
        base = b"v0:" + timestamp.encode() + b":" + incoming.body
        if not same("v0=" + hmac_digest(secret, base).hex(), given):
            raise SignatureError("bad", "X-Slack-Signature does not match")
        check_age(timestamp, incoming.now, self.tolerance)

    def describe(self, incoming: Incoming) -> Description:
        if incoming.is_form:  # slash commands; interactivity wraps JSON in ``payload``
            form = form_body(incoming)
            inner = _json_field(form.get("payload"))
            return Description(
                event_id=form.get("trigger_id")
                or str(dig(inner, "trigger_id") or body_digest(incoming.body)),
                topic=form.get("command") or str(dig(inner, "type") or "interaction"),
                account=form.get("team_id") or dig(inner, "team.id"),
                payload=inner if inner is not None else form,
            )
        event = json_body(incoming)
        reply = None
        if dig(event, "type") == "url_verification":
            reply = {"challenge": dig(event, "challenge")}
        return Description(
            event_id=str(dig(event, "event_id") or body_digest(incoming.body)),
            topic=str(dig(event, "event.type") or dig(event, "type") or "event"),
            account=dig(event, "team_id"),
            payload=event,
            reply=reply,
        )


class HubSpotV3Scheme(Scheme):
    """HubSpot v3: base64 HMAC-SHA256 of method + URI + body + timestamp (milliseconds)."""

    name = "hubspot_v3"
    header = "X-HubSpot-Signature-v3"
    timestamped = True
    # HubSpot signs the URI with these characters decoded.
    _DECODED: ClassVar[tuple[str, ...]] = (
        "%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B",
    )  # fmt: skip

    def verify(self, incoming: Incoming, secret: str) -> None:
        given = self.signature(incoming)
        timestamp = incoming.required("X-HubSpot-Request-Timestamp")
        uri = incoming.url
        for encoded in self._DECODED:
            uri = uri.replace(encoded, unquote(encoded)).replace(encoded.lower(), unquote(encoded))
        source = incoming.method.encode() + uri.encode() + incoming.body + timestamp.encode()
        if not same(b64(hmac_digest(secret, source)), given):
            raise SignatureError("bad", "X-HubSpot-Signature-v3 does not match")
        check_age(timestamp, incoming.now, self.tolerance, scale=1000)

    def describe(self, incoming: Incoming) -> Description:
        events = json_body(incoming)
        batch = events if isinstance(events, list) else [events]
        ids = [str(dig(e, "eventId")) for e in batch if dig(e, "eventId") is not None]
        portal = dig(batch, "0.portalId")
        return Description(
            event_id=",".join(ids)[:200] if ids else body_digest(incoming.body),
            topic=str(dig(batch, "0.subscriptionType") or "event"),
            account=str(portal) if portal is not None else None,
            payload=events,
        )


class StandardWebhooksScheme(Scheme):
    """Standard Webhooks (Zapier-style senders, other Switchyards): verified by the
    official ``standardwebhooks`` package; ``webhook-id`` is the event id."""

    name = "standard_webhooks"
    header = "webhook-signature"
    timestamped = True

    def verify(self, incoming: Incoming, secret: str) -> None:
        self.signature(incoming)
        timestamp = incoming.required("webhook-timestamp")
        incoming.required("webhook-id")
        try:
            webhook = Webhook(secret)
        except (ValueError, TypeError, RuntimeError):  # binascii.Error is a ValueError
            raise SignatureError("bad", "the configured secret is not a whsec_ secret") from None
        try:
            webhook.verify(incoming.body, dict(incoming.headers), json_parse=False)
        except WebhookVerificationError as exc:
            stale = "too old" in str(exc) or "too new" in str(exc)
            raise SignatureError("stale" if stale else "bad", str(exc)) from None
        check_age(timestamp, incoming.now, self.tolerance)

    def describe(self, incoming: Incoming) -> Description:
        event = json_body(incoming)
        return Description(
            event_id=incoming.header("webhook-id") or body_digest(incoming.body),
            topic=str(dig(event, "type") or "webhook"),
            payload=event,
        )
