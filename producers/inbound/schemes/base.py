"""What every signature scheme shares: the request as received, the errors, HMAC helpers.

A scheme is a small class named by the catalog's ``webhook_scheme``. It answers three
things about a request: is the signature good (:meth:`Scheme.verify`, raising
:class:`SignatureError` saying *missing*, *bad* or *stale*), what is the provider's event
id and topic (:meth:`Scheme.describe`, for deduplication), and which provider account sent
it (for routing to a connection). Parsing never trusts the body before verification for
anything but routing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl


class SignatureError(Exception):
    """The request's signature is ``missing``, ``bad`` or ``stale``; the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PayloadError(ValueError):
    """The body is not what the provider sends (not JSON, not a form...)."""


@dataclass(frozen=True)
class Incoming:
    """One inbound request: ``url`` is the public URL the provider called (schemes that sign
    the URL need it exactly), ``headers`` have lower-case names."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    now: float

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def required(self, name: str) -> str:
        """A header the signature needs, or a *missing* signature error naming it."""
        value = self.header(name)
        if not value:
            raise SignatureError("missing", f"missing {name} header")
        return value

    @property
    def is_form(self) -> bool:
        return "application/x-www-form-urlencoded" in (self.header("content-type") or "")


@dataclass(frozen=True)
class Description:
    """What a verified request is: the provider's event id, topic and account (if stated)."""

    event_id: str
    topic: str
    account: str | None = None
    payload: Any = field(default=None)
    reply: Mapping[str, Any] | None = None  # a handshake answer (Slack url_verification)

    def __post_init__(self) -> None:
        # Ids come from the sender's JSON: a number or object where a string belongs is a
        # malformed request (400), not something to route on or store.
        for name in ("event_id", "topic", "account"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise PayloadError(f"{name} must be a string, not {type(value).__name__}")
            if value is not None and "\x00" in value:
                raise PayloadError(f"{name} must not contain NUL")


def hmac_digest(secret: str | bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


def same(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time comparison."""
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(left, right)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def body_digest(body: bytes) -> str:
    """A stable id for providers that send none: the SHA-256 of the body."""
    return hashlib.sha256(body).hexdigest()


def check_age(timestamp: str, now: float, tolerance: int, *, scale: float = 1.0) -> None:
    """A *stale* error unless ``timestamp`` (seconds, or ms with scale 1000) is recent."""
    try:
        moment = float(timestamp) / scale
    except ValueError:
        raise SignatureError("bad", f"timestamp {timestamp[:40]!r} is not a number") from None
    if abs(now - moment) > tolerance:
        raise SignatureError("stale", f"timestamp is {int(now - moment)} s away from now")


def json_body(incoming: Incoming) -> Any:
    try:
        return json.loads(incoming.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PayloadError("body is not valid JSON") from None


def form_body(incoming: Incoming) -> dict[str, str]:
    try:
        text = incoming.body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("form body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


class Scheme:
    """Base of the schemes: subclasses set ``name`` and the signature ``header``."""

    name: ClassVar[str]
    header: ClassVar[str]
    timestamped: ClassVar[bool] = False

    def __init__(self, tolerance_seconds: int = 300) -> None:
        self.tolerance = tolerance_seconds

    def signature(self, incoming: Incoming) -> str:
        """The signature header's value (the replay cache keys on it)."""
        return incoming.required(self.header)

    def verify(self, incoming: Incoming, secret: str) -> None:
        """Raise :class:`SignatureError` unless ``secret`` signed this request, recently."""
        raise NotImplementedError

    def describe(self, incoming: Incoming) -> Description:
        """Event id, topic and account of a request (JSON body by default)."""
        raise NotImplementedError
