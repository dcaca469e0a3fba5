"""Sending one webhook attempt and reading at most a bounded part of the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from providers.outbound import UNREACHABLE, OutboundRefused

EXCERPT_BYTES = 1_024


@dataclass(frozen=True)
class SendResult:
    """What came back: a status and an excerpt, or an error; ``blocked`` by the outbound policy."""

    status: int | None
    seconds: float
    excerpt: str = ""
    error: str | None = None
    retry_after: float | None = None
    blocked: bool = False

    @property
    def ok(self) -> bool:
        """Only a 2xx answer is a delivery."""
        return self.status is not None and 200 <= self.status < 300


def send(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], max_bytes: int
) -> SendResult:
    """POST ``body``; never raises for network trouble, reads at most ``max_bytes`` back."""
    started = time.perf_counter()
    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            head = _read_bounded(response, max_bytes)
            return SendResult(
                status=response.status_code,
                seconds=time.perf_counter() - started,
                excerpt=head[:EXCERPT_BYTES].decode("utf-8", errors="replace"),
                error=None if 200 <= response.status_code < 300 else _status_error(response),
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
    except OutboundRefused:
        return SendResult(None, time.perf_counter() - started, error=UNREACHABLE, blocked=True)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return SendResult(None, time.perf_counter() - started, error=UNREACHABLE)
    except httpx.TimeoutException as exc:
        return SendResult(None, time.perf_counter() - started, error=f"timeout: {exc!r}")
    except httpx.HTTPError as exc:
        return SendResult(None, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")


def _read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    head = bytearray()
    for chunk in response.iter_raw():
        head.extend(chunk)
        if len(head) >= max_bytes:
            break
    return bytes(head[:max_bytes])


def _status_error(response: httpx.Response) -> str:
    location = response.headers.get("location")
    if 300 <= response.status_code < 400 and location:
        return f"HTTP {response.status_code} redirect not followed"
    return f"HTTP {response.status_code}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
