"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

The official ``standardwebhooks`` package computes each signature, so what we send is by
construction what its ``Webhook.verify`` accepts. With several active secrets (a rotation's
grace period) the header lists one signature per secret, space-separated; a receiver holding
either secret verifies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

from storage.crypto import Secret


def message_id(event_id: str) -> str:
    """The ``webhook-id`` of an event: the same for every attempt and replay of it."""
    return f"msg_{event_id}"


def signature_header(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[Secret]) -> str:
    """The ``webhook-signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    moment = datetime.fromtimestamp(timestamp, UTC)
    text = body.decode("utf-8")
    return " ".join(
        Webhook(secret.reveal()).sign(msg_id=msg_id, timestamp=moment, data=text)
        for secret in secrets
    )


def signed_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: Sequence[Secret]
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(msg_id, timestamp, body, secrets),
    }
