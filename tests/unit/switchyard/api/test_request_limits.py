"""The request-limits middleware, driven as a plain ASGI app (no server, no services)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from switchyard.api.limits import BodyLimits, RequestLimitsMiddleware, nested_deeper_than

LIMITS = BodyLimits(max_bytes=1024, inbound_max_bytes=2048, max_depth=8, timeout_seconds=0.05)


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """An app answering 200 with the body it received."""
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": message.get("body", b"")})


def call(
    path: str = "/v1/jobs",
    chunks: list[bytes] | None = None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    query: bytes = b"",
    stall: bool = False,
) -> tuple[int, bytes]:
    """Send one request through the middleware; ``stall`` stops sending after ``chunks``."""
    pending = list(chunks or [])
    sent: list[dict[str, Any]] = []
    header_list = [
        (k.lower().encode(), v.encode())
        for k, v in {"content-type": "application/json", **(headers or {})}.items()
    ]

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or stall}
        if stall:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": header_list,
    }
    asyncio.run(RequestLimitsMiddleware(_echo, LIMITS)(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def error_of(body: bytes) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(body)["error"]
    return error


def test_a_stalled_body_gets_408_at_the_deadline() -> None:
    """A client that sends part of its body and stops is answered 408, freeing the connection."""
    status, body = call(chunks=[b'{"kind":'], stall=True)
    assert status == 408 and error_of(body)["code"] == "request_timeout"


def test_a_body_arriving_in_chunks_reaches_the_app_whole() -> None:
    """The checked body is replayed to the app unchanged."""
    status, body = call(chunks=[b'{"a":', b" [1, 2]}"])
    assert (status, body) == (200, b'{"a": [1, 2]}')


@pytest.mark.parametrize(
    ("path", "size", "expected"),
    [("/v1/jobs", 1025, 413), ("/v1/jobs", 1024, 200), ("/webhooks/stripe", 2048, 200)],
)
def test_size_limit_per_route_family(path: str, size: int, expected: int) -> None:
    """API bodies are bounded by the API limit, inbound webhooks by their own."""
    payload = b'"' + b"x" * (size - 2) + b'"'
    assert call(path, [payload])[0] == expected


def test_declared_oversize_is_refused_without_reading() -> None:
    """A Content-Length over the limit is 413 before any byte is read."""
    status, _ = call(chunks=[], headers={"content-length": "999999"}, stall=True)
    assert status == 413


@pytest.mark.parametrize("path", ["/v1/events", "/webhooks/stripe"])
def test_too_deep_json_is_422_on_api_and_inbound_routes(path: str) -> None:
    """Nesting past max_json_depth is refused before any parser sees it."""
    status, body = call(path, [b"[" * 9 + b"]" * 9])
    assert status == 422 and error_of(body)["fields"][0]["field"] == "(body)"
    assert call(path, [b"[" * 8 + b"]" * 8])[0] == 200


def test_non_json_media_type_is_415_on_api_routes_only() -> None:
    """text/plain is refused on API routes; inbound routes take forms (Twilio)."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert call("/v1/jobs", [b"{}"], headers={"content-type": "text/plain"})[0] == 415
    assert call("/webhooks/twilio", [b"a=b"], headers=form)[0] == 200
    assert call("/v1/jobs", [b"{}"], headers={"content-type": "application/json; x=y"})[0] == 200


@pytest.mark.parametrize("path", ["/v1/events", "/webhooks/stripe"])
def test_escaped_nul_in_a_json_body_is_422_but_an_escaped_backslash_is_not(path: str) -> None:
    """``\\u0000`` cannot be stored; ``\\\\u0000`` is a backslash followed by text."""
    assert call(path, [b'{"a": "x\\u0000"}'])[0] == 422
    assert call(path, [b'{"a": "x\\\\u0000"}'])[0] == 200


def test_nul_in_an_inbound_form_is_422() -> None:
    """A form-encoded webhook (Twilio) carrying %00 is refused like a JSON one."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert call("/webhooks/twilio", [b"Body=a%00b"], headers=form)[0] == 422


@pytest.mark.parametrize("query", [b"provider=a%00b", b"x%0d%0a=1", b"cursor=%ff"])
def test_control_characters_or_bad_utf8_in_the_query_are_422(query: bytes) -> None:
    """Filters and cursors with NUL/CRLF or invalid UTF-8 are refused before any query."""
    assert call(method="GET", query=query)[0] == 422


def test_control_characters_in_the_path_are_422() -> None:
    """A path id carrying NUL is refused."""
    assert call("/v1/connections/a\x00b", method="GET")[0] == 422


@pytest.mark.parametrize(
    ("text", "limit", "deeper"),
    [
        (b"{}", 1, False),
        (b"{}", 0, True),
        (b'{"a": [1, {"b": []}]}', 4, False),
        (b'{"a": [1, {"b": []}]}', 3, True),
        (b'{"a": "[[[[[[[[[[[["}', 1, False),
        (b'["\\"[[[[", []]', 2, False),
        (b'["\\"[[[[", []]', 1, True),
        (b"[[]] [[[]]]", 2, True),
    ],
)
def test_depth_counts_structural_brackets_only(text: bytes, limit: int, deeper: bool) -> None:
    """Brackets inside strings (escaped quotes included) do not count."""
    assert nested_deeper_than(text, limit) is deeper


def test_a_json_body_that_is_not_utf8_is_422() -> None:
    """Bytes that are not UTF-8 are refused naming the body (FastAPI answered an undeclared 400)."""
    status, body = call(chunks=[b'{"a": "\xff\xfe"}'])
    assert status == 422 and error_of(body)["fields"][0]["field"] == "(body)"
