"""Schemes that sign the body (and sometimes the URL) without a timestamp: Shopify, GitHub,
Meta, Square and Twilio. Staleness cannot be proven for them; the replay cache refuses a
signature seen before, and deduplication by event id catches the provider's own retries."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlsplit

from producers.inbound.schemes.base import (
    Description,
    Incoming,
    Scheme,
    SignatureError,
    b64,
    body_digest,
    form_body,
    hmac_digest,
    json_body,
    same,
)
from providers.json_path import dig


class ShopifyScheme(Scheme):
    """Shopify: ``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256 of the body; the shop is
    ``X-Shopify-Shop-Domain`` without ``.myshopify.com`` (the catalog's ``shop``)."""

    name = "shopify"
    header = "X-Shopify-Hmac-Sha256"

    def verify(self, incoming: Incoming, secret: str) -> None:
        if not same(b64(hmac_digest(secret, incoming.body)), self.signature(incoming)):
            raise SignatureError("bad", "X-Shopify-Hmac-Sha256 does not match")

    def describe(self, incoming: Incoming) -> Description:
        domain = incoming.header("X-Shopify-Shop-Domain")
        return Description(
            event_id=incoming.header("X-Shopify-Webhook-Id")
            or incoming.header("X-Shopify-Event-Id")
            or body_digest(incoming.body),
            topic=incoming.header("X-Shopify-Topic") or "webhook",
            account=domain.removesuffix(".myshopify.com") if domain else None,
            payload=json_body(incoming),
        )


class HubSignatureScheme(Scheme):
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` (GitHub, Meta)."""

    header = "X-Hub-Signature-256"

    def verify(self, incoming: Incoming, secret: str) -> None:
        expected = "sha256=" + hmac_digest(secret, incoming.body).hex()
        if not same(expected, self.signature(incoming)):
            raise SignatureError("bad", f"{self.header} does not match")


class GitHubScheme(HubSignatureScheme):
    """GitHub: ``X-GitHub-Delivery`` is the event id, ``X-GitHub-Event`` the topic."""

    name = "github"

    def describe(self, incoming: Incoming) -> Description:
        return Description(
            event_id=incoming.header("X-GitHub-Delivery") or body_digest(incoming.body),
            topic=incoming.header("X-GitHub-Event") or "event",
            payload=json_body(incoming),
        )


class MetaScheme(HubSignatureScheme):
    """Meta (Facebook, Instagram, Messenger): the first entry's id is the page or account.
    The ``hub.challenge`` verify-token handshake is answered by the receiver."""

    name = "meta"

    def describe(self, incoming: Incoming) -> Description:
        event = json_body(incoming)
        account = dig(event, "entry.0.id")
        return Description(
            event_id=body_digest(incoming.body),
            topic=str(dig(event, "object") or "event"),
            account=str(account) if account is not None else None,
            payload=event,
        )


class SquareScheme(Scheme):
    """Square: ``x-square-hmacsha256-signature`` = base64 HMAC-SHA256 of URL + body."""

    name = "square"
    header = "X-Square-HmacSha256-Signature"

    def verify(self, incoming: Incoming, secret: str) -> None:
        expected = b64(hmac_digest(secret, incoming.url.encode() + incoming.body))
        if not same(expected, self.signature(incoming)):
            raise SignatureError("bad", "x-square-hmacsha256-signature does not match")

    def describe(self, incoming: Incoming) -> Description:
        event = json_body(incoming)
        return Description(
            event_id=str(dig(event, "event_id") or body_digest(incoming.body)),
            topic=str(dig(event, "type") or "event"),
            account=dig(event, "merchant_id"),
            payload=event,
        )


class TwilioScheme(Scheme):
    """Twilio: ``X-Twilio-Signature`` = base64 HMAC-SHA1 of the URL followed by the form
    parameters sorted by name (key then value, no separators). A JSON body is signed
    through the URL's ``bodySHA256`` parameter, which must also match the body."""

    name = "twilio"
    header = "X-Twilio-Signature"

    def verify(self, incoming: Incoming, secret: str) -> None:
        given = self.signature(incoming)
        query = dict(parse_qsl(urlsplit(incoming.url).query, keep_blank_values=True))
        if "bodySHA256" in query:
            if not same(hashlib.sha256(incoming.body).hexdigest(), query["bodySHA256"]):
                raise SignatureError("bad", "bodySHA256 does not match the body")
            data = incoming.url
        else:
            params = sorted(form_body(incoming).items()) if incoming.is_form else []
            data = incoming.url + "".join(key + value for key, value in params)
        if not same(b64(hmac_digest(secret, data.encode(), "sha1")), given):
            raise SignatureError("bad", "X-Twilio-Signature does not match")

    def describe(self, incoming: Incoming) -> Description:
        payload = form_body(incoming) if incoming.is_form else json_body(incoming)
        sid_names = ("MessageSid", "CallSid", "SmsSid", "RecordingSid", "Sid")
        sid = next((str(payload[n]) for n in sid_names if dig(payload, n)), None)
        status = dig(payload, "MessageStatus") or dig(payload, "CallStatus") or "callback"
        return Description(
            event_id=f"{sid}:{status}" if sid else body_digest(incoming.body),
            topic=str(status),
            account=dig(payload, "AccountSid"),
            payload=payload,
        )
