"""Request limits enforced before any route runs: the one bounded body reader of the API.

Every request body (JSON routes and the public inbound webhook routes alike) is read here,
once, with a size bound and a deadline, and checked before FastAPI, a signature scheme or
``json.loads`` sees it:

- **size**: over the limit -> 413 (declared ``Content-Length`` is refused without reading);
- **time**: a body not complete within ``body_timeout_seconds`` -> 408, so a stalled client
  cannot hold a connection;
- **depth**: a JSON body nested deeper than ``max_json_depth`` -> 422 (Python's parser would
  raise ``RecursionError`` long before a nesting of 5,000, and PostgreSQL's jsonb refuses
  depths past its own limit);
- **media type**: a non-empty body on an API route that is not ``application/json`` -> 415
  (inbound routes take what providers send: Twilio posts forms; console pages post HTML
  forms, ``application/x-www-form-urlencoded``), or not UTF-8 -> 422;
- **NUL**: ``\\u0000`` in a JSON body (``%00`` in an inbound form), or any control
  character in the path or a query parameter -> 422: PostgreSQL cannot store NUL in text or
  jsonb (a webhook accepted with one would fail later, when its event is stored), and ids,
  filters and cursors never contain control characters.

The checked body is then replayed to the application unchanged.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.envelope import FieldError
from contract.metrics import API_INPUT_REFUSED
from switchyard.api.errors import error_response

INBOUND_PREFIX = "/webhooks/"
CONSOLE_PREFIX = "/console/"
FORM_MEDIA = "application/x-www-form-urlencoded"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_NUL = re.compile(rb"%00")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class BodyLimits:
    """The bounds a request body must keep (from ``ApiSettings`` and ``WebhookSettings``)."""

    max_bytes: int
    inbound_max_bytes: int
    max_depth: int
    timeout_seconds: float


class Refusal(Exception):
    """A request refused before routing, with its status, field and metric reason."""

    def __init__(self, status: int, reason: str, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.field, self.message = status, reason, field, message


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether a JSON text nests brackets (outside strings) more than ``limit`` deep,
    found without parsing it."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    if sum(1 for b in brackets if b in _OPENERS) <= limit:
        return False
    depth = 0
    for byte in brackets:
        depth += 1 if byte in _OPENERS else -1
        if depth > limit:
            return True
    return False


class RequestLimitsMiddleware:
    """ASGI middleware enforcing :class:`BodyLimits` and clean paths/queries."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_target(scope)
            if scope["method"] not in _BODY_METHODS:
                await self.app(scope, receive, send)
                return
            body = await self._read(scope, receive)
            self._check_body(scope, body)
        except Refusal as refused:
            API_INPUT_REFUSED.labels(refused.reason).inc()
            answer = error_response(
                refused.status, refused.message, [FieldError(refused.field, refused.message)]
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        inbound = scope["path"].startswith(INBOUND_PREFIX)
        limit = self.limits.inbound_max_bytes if inbound else self.limits.max_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        deadline = time.monotonic() + self.limits.timeout_seconds
        body = bytearray()
        more = True
        while more:
            message = await _next_message(receive, deadline)
            if message["type"] == "http.disconnect":
                break
            body.extend(message.get("body", b""))
            if len(body) > limit:
                raise _too_large(limit)
            more = message.get("more_body", False)
        return bytes(body)

    def _check_body(self, scope: Scope, body: bytes) -> None:
        if not body.strip():
            return
        inbound = scope["path"].startswith(INBOUND_PREFIX)
        forms = inbound or scope["path"].startswith(CONSOLE_PREFIX)
        _check_media(scope, inbound)
        if not inbound and not _is_utf8(body):
            raise Refusal(422, "encoding", "(body)", "not valid UTF-8")
        if body.lstrip()[:1] in (b"{", b"[") and nested_deeper_than(body, self.limits.max_depth):
            message = f"JSON nested deeper than {self.limits.max_depth} levels"
            raise Refusal(422, "too_deep", "(body)", message)
        if _ESCAPED_NUL.search(body) or (forms and _FORM_NUL.search(body)):
            message = "contains a NUL character (\\u0000), which cannot be stored"
            raise Refusal(422, "control_char", "(body)", message)


async def _next_message(receive: Receive, deadline: float) -> Message:
    remaining = deadline - time.monotonic()
    try:
        async with asyncio.timeout(max(remaining, 0)):
            return await receive()
    except TimeoutError:
        raise Refusal(408, "timeout", "(body)", "the request body did not arrive in time") from None


def _check_media(scope: Scope, inbound: bool) -> None:
    """JSON on API routes, url-encoded forms on console pages, anything on inbound routes."""
    media = _header(scope, b"content-type")
    if inbound:
        return
    if scope["path"].startswith(CONSOLE_PREFIX):
        if media.split(";", 1)[0].strip().lower() != FORM_MEDIA:
            raise Refusal(
                415, "media_type", "(header) content-type", f"the body must be {FORM_MEDIA}"
            )
        return
    if not _is_json(media):
        raise Refusal(
            415, "media_type", "(header) content-type", "the body must be application/json"
        )


def _check_target(scope: Scope) -> None:
    if _CONTROL.search(scope["path"]):
        raise Refusal(422, "control_char", "(path)", "control characters are not allowed")
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Refusal(422, "control_char", "(query)", "not valid UTF-8") from None
    for name, value in pairs:
        if _CONTROL.search(name) or _CONTROL.search(value):
            message = "control characters are not allowed"
            raise Refusal(422, "control_char", f"query.{_printable(name)}", message)


def _printable(name: str) -> str:
    return _CONTROL.sub("?", name)[:64]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return ""


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and "+json" in media)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "too_large", "(body)", f"body exceeds {limit} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the checked body, then defers to the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
