"""The client's get/cancel/wait, retries and error mapping, against httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from switchyard.client import (
    AsyncClient,
    Client,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    Polling,
    Retries,
    TransportError,
    UnavailableError,
    WaitTimeout,
)

JOB_ID = "3f2a9c1e0b8d4e6f9a7b5c3d1e0f2a4b"
FAST = Retries(attempts=3, base_seconds=0.0, max_seconds=0.01)
QUICK = Polling(initial=0.001, factor=2.0, maximum=0.004)


def status(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": JOB_ID,
        "org_id": "o1",
        "kind": "action",
        "provider": "slack",
        "action": "post_message",
        "model": None,
        "queue": "action",
        "state": state,
        "attempts": 1,
        "updated_at": "2026-12-05T10:00:00+00:00",
        **extra,
    }


def error(
    status_code: int, code: str, fields: list[dict[str, str]] | None = None
) -> httpx.Response:
    body = {"error": {"code": code, "message": code, "fields": fields or []}}
    return httpx.Response(status_code, json=body)


def client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    transport = httpx.MockTransport(handler)
    return Client("http://sy.test", "k", retries=FAST, polling=QUICK, transport=transport)


def test_get_returns_the_typed_status() -> None:
    """get() reads GET /v1/jobs/{id} into a JobStatus with nested states."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        retry = {"attempt": 2, "next_at": "2026-12-05T10:00:05+00:00", "error_class": "transient"}
        return httpx.Response(200, json=status("retrying", retry=retry))

    job = client(handler).get(JOB_ID)
    assert (seen[0].method, seen[0].url.path) == ("GET", f"/v1/jobs/{JOB_ID}")
    assert seen[0].headers["authorization"] == "Bearer k"
    assert job.state == "retrying" and job.retry is not None and job.retry.attempt == 2
    assert not job.finished


def test_cancel_deletes_and_maps_409_and_404() -> None:
    """cancel() is DELETE /v1/jobs/{id}; a finished job is ConflictError, unknown NotFoundError."""
    answers = iter(
        [
            httpx.Response(200, json=status("cancelled")),
            error(409, "conflict"),
            error(404, "not_found"),
        ]
    )
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return next(answers)

    sy = client(handler)
    assert sy.cancel(JOB_ID).state == "cancelled"
    with pytest.raises(ConflictError) as conflict:
        sy.cancel(JOB_ID)
    assert conflict.value.status == 409 and conflict.value.code == "conflict"
    with pytest.raises(NotFoundError):
        sy.cancel(JOB_ID)
    assert methods == ["DELETE"] * 3


def test_wait_polls_until_a_terminal_state() -> None:
    """wait() polls through queued and running and returns the succeeded status."""
    states = iter(["queued", "running", "running", "succeeded"])

    def handler(request: httpx.Request) -> httpx.Response:
        state = next(states)
        result = {"message_ts": "1.2"} if state == "succeeded" else None
        return httpx.Response(200, json=status(state, result=result))

    done = client(handler).wait(JOB_ID, timeout=5)
    assert done.state == "succeeded" and done.result == {"message_ts": "1.2"}


def test_wait_gives_up_with_the_last_state() -> None:
    """wait() raises WaitTimeout carrying the last status when the job never finishes."""
    sy = client(
        lambda request: httpx.Response(
            200, json=status("waiting", waiting={"reason": "rate_limit", "until": None})
        )
    )
    with pytest.raises(WaitTimeout) as exc:
        sy.wait(JOB_ID, timeout=0.02)
    assert exc.value.last.state == "waiting"


def test_503_is_retried_honouring_retry_after() -> None:
    """A 503 with Retry-After: 0 is retried; the next answer is returned."""
    answers = iter([error(503, "unavailable"), httpx.Response(200, json=status("queued"))])

    def handler(request: httpx.Request) -> httpx.Response:
        response = next(answers)
        if response.status_code == 503:
            response.headers["Retry-After"] = "0"
        return response

    assert client(handler).get(JOB_ID).state == "queued"


def test_503_after_every_attempt_is_unavailable_error() -> None:
    """Persistent 503s end in UnavailableError with the server's Retry-After."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            503,
            json={"error": {"code": "unavailable", "message": "down", "fields": []}},
            headers={"Retry-After": "0"},
        )

    with pytest.raises(UnavailableError) as exc:
        client(handler).get(JOB_ID)
    assert len(calls) == FAST.attempts and exc.value.retry_after == 0


def test_enqueue_retries_a_lost_answer_with_the_same_key() -> None:
    """A read error after sending is retried with the same idempotency key; the server's
    'duplicate' for the client's own key is reported as the first, not a duplicate."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(200, json={"id": JOB_ID, "duplicate": True})

    created = client(handler).enqueue(
        {"kind": "action", "provider": "slack", "payload": {"action": "noop"}}
    )
    assert bodies[0]["idempotency_key"] == bodies[1]["idempotency_key"]
    assert created.id == JOB_ID and not created.duplicate


def test_a_post_without_a_key_is_not_retried_after_a_lost_answer() -> None:
    """Replay has no idempotency key in its body: a read error is not retried."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("reset", request=request)

    with pytest.raises(TransportError):
        client(handler).replay_dead_jobs(["d1"])
    assert len(calls) == 1 and "idempotency-key" in calls[0].headers


def test_422_names_the_fields() -> None:
    """A refused job raises InvalidInputError with the API's fields."""
    fields = [{"field": "payload.action", "message": "unknown action 'teleport'"}]
    sy = client(lambda request: error(422, "invalid_input", fields))
    with pytest.raises(InvalidInputError) as exc:
        sy.enqueue({"kind": "action", "provider": "slack", "payload": {"action": "teleport"}})
    assert [f.field for f in exc.value.fields] == ["payload.action"]


def test_async_client_gets_cancels_and_waits() -> None:
    """AsyncClient's get, cancel and wait behave as the blocking client's."""
    states = iter(["running", "succeeded"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(200, json=status("cancelled", cancel_requested=True))
        return httpx.Response(200, json=status(next(states)))

    async def run() -> tuple[str, bool, str]:
        transport = httpx.MockTransport(handler)
        async with AsyncClient(
            "http://sy.test", "k", retries=FAST, polling=QUICK, transport=transport
        ) as sy:
            first = await sy.get(JOB_ID)
            cancelled = await sy.cancel(JOB_ID)
            done = await sy.wait(JOB_ID, timeout=5)
            return first.state, cancelled.cancel_requested, done.state

    assert asyncio.run(run()) == ("running", True, "succeeded")
