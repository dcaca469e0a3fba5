"""A loopback stand-in for a provider that judges the limiter by what a provider would see.

:class:`Referee` is a real HTTP server on 127.0.0.1 that records the arrival of every
request per rate key (the bearer token: one connection, one key) and counts accepted
requests per sliding window. ``observe`` mode accepts everything and sends no rate-limit
headers (a pure counter); ``enforce`` mode refuses what goes over its own limit with a 429
in a provider's style:

- ``hubspot``: sliding window; ``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds``
  on every answer, a ``policyName`` body on a 429 and no ``Retry-After``;
- ``shopify``: leaky bucket; ``X-Shopify-Shop-Api-Call-Limit: used/size``, ``Retry-After``;
- ``generic`` (Mailgun-like): sliding window; ``X-RateLimit-Limit/-Remaining/-Reset`` and
  ``Retry-After`` on a 429.

:meth:`Referee.transport` routes a provider client's requests (any catalog URL) to it
over real sockets, so arrival times include everything between our grant and the wire.
An arrival is the moment the request's first bytes reached the stand-in's socket (the
kernel's receive timestamp, where Linux gives one): a provider's clock runs on its own
hosts, so the stand-in's thread waiting for a CPU on a loaded test host (measured: up to
~200 ms) must not count as the request arriving later. ``read`` keeps when the handler
got to it.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import struct
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import httpx

Mode = Literal["observe", "enforce"]
Style = Literal["hubspot", "shopify", "generic"]


@dataclass(frozen=True)
class Arrival:
    at: float  # when it reached the socket (epoch s; the kernel's stamp, else when read)
    key: str
    job: str
    accepted: bool
    read: float = 0.0  # time.time() when the handler read it


@dataclass
class _Bucket:
    level: float = 0.0
    last: float = 0.0


@dataclass
class Referee:
    """The stand-in provider; ``limit`` per ``period`` seconds (a bucket of ``limit`` leaking
    ``limit / period`` per second in the shopify style) applies in ``enforce`` mode."""

    limit: int
    period: float
    mode: Mode = "observe"
    style: Style = "generic"
    arrivals: list[Arrival] = field(default_factory=list)
    paused_until: float = 0.0  # enforce mode: refuse everything until then (an outage)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _accepted: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _buckets: dict[str, _Bucket] = field(default_factory=lambda: defaultdict(_Bucket))

    def __post_init__(self) -> None:
        referee = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real providers
            arrived: float | None = None

            def setup(self) -> None:
                super().setup()
                _stamp_arrivals(self.connection)

            def handle_one_request(self) -> None:
                self.arrived = _arrival(self.connection)
                super().handle_one_request()

            def do_GET(self) -> None:
                referee._answer(self)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport sending every request to this referee, path and query kept."""
        return to_url(self.url)

    # -- judging ---------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        read = time.time()
        now = getattr(handler, "arrived", None) or read
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        key = handler.headers.get("Authorization", "anonymous")
        job = parse_qs(urlsplit(handler.path).query).get("job", [""])[0]
        with self._lock:
            accepted, headers = self._judge(key, now)
            self.arrivals.append(Arrival(now, key, job, accepted, read))
        body = json.dumps({"results": [], "ok": accepted} | self._refusal(accepted)).encode()
        handler.send_response(200 if accepted else 429)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _judge(self, key: str, now: float) -> tuple[bool, dict[str, str]]:
        if self.mode == "observe":
            return True, {}
        if now < self.paused_until:
            return False, self._paused(now)
        if self.style == "shopify":
            return self._bucket(key, now)
        window = self._accepted[key]
        while window and window[0] <= now - self.period:
            window.pop(0)
        accepted = len(window) < self.limit
        if accepted:
            window.append(now)
        remaining = self.limit - len(window)
        if self.style == "hubspot":
            return accepted, {
                "X-HubSpot-RateLimit-Max": str(self.limit),
                "X-HubSpot-RateLimit-Remaining": str(remaining),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.period * 1000)),
            }
        reset = window[0] + self.period - now if window else 0.0
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if not accepted:
            headers["Retry-After"] = str(max(math.ceil(reset), 1))
        return accepted, headers

    def _bucket(self, key: str, now: float) -> tuple[bool, dict[str, str]]:
        bucket = self._buckets[key]
        leak = self.limit / self.period
        bucket.level = max(0.0, bucket.level - (now - bucket.last) * leak) if bucket.last else 0
        bucket.last = now
        accepted = bucket.level + 1 <= self.limit
        if accepted:
            bucket.level += 1
        headers = {"X-Shopify-Shop-Api-Call-Limit": f"{math.ceil(bucket.level)}/{self.limit}"}
        if not accepted:
            headers["Retry-After"] = "1.0"
        return accepted, headers

    def pause(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (a provider-side pause), in the style's way."""
        with self._lock:
            self.paused_until = time.time() + seconds

    def _paused(self, now: float) -> dict[str, str]:
        wait = str(max(math.ceil(self.paused_until - now), 1))
        if self.style == "hubspot":
            return {
                "X-HubSpot-RateLimit-Max": str(self.limit),
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.period * 1000)),
            }
        if self.style == "shopify":
            return {
                "X-Shopify-Shop-Api-Call-Limit": f"{self.limit}/{self.limit}",
                "Retry-After": wait,
            }
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "Retry-After": wait,
        }

    def _refusal(self, accepted: bool) -> dict[str, str]:
        if accepted or self.style != "hubspot":
            return {}
        return {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}

    # -- figures ---------------------------------------------------------------------------

    def accepted_times(self, key: str | None = None) -> list[float]:
        with self._lock:
            return sorted(a.at for a in self.arrivals if a.accepted and key in (None, a.key))

    def refused(self) -> int:
        with self._lock:
            return sum(1 for a in self.arrivals if not a.accepted)


def busiest_window(times: list[float], period: float) -> int:
    """The most requests in any window ``[t, t + period)`` starting at a request."""
    return max(window_counts(times, period), default=0)


def windows_over(times: list[float], period: float, limit: int) -> int:
    """How many windows ``[t, t + period)`` (one starting at each request) hold more than
    ``limit`` requests: what a provider counting a sliding window would have refused."""
    return sum(1 for count in window_counts(times, period) if count > limit)


def window_counts(times: list[float], period: float) -> list[int]:
    ordered = sorted(times)
    counts, end = [], 0
    for start, at in enumerate(ordered):
        while end < len(ordered) and ordered[end] < at + period:
            end += 1
        counts.append(end - start)
    return counts


_SO_TIMESTAMPNS = 35  # Linux: kernel receive timestamps as a timespec (not in `socket`)


def _stamp_arrivals(connection: socket.socket) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)


def _arrival(connection: socket.socket) -> float | None:
    """When the next request's first byte reached the socket (None: unknown or closed).
    Peeks, so the handler still reads the whole request."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        data, ancillary, _, _ = connection.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
    except OSError:
        return None
    for level, kind, raw in ancillary:
        if data and level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(raw) >= 16:
            seconds, nanoseconds = struct.unpack("qq", raw[:16])
            return seconds + nanoseconds / 1e9
    return None


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops SYNs when 16 worker threads connect at once, and a
    # dropped SYN is retried after 1 s: a delay the limiter would be blamed for.
    request_queue_size = 128


def to_url(url: str) -> httpx.BaseTransport:
    """An httpx transport sending every request to ``url``'s host and port over loopback."""
    return _ToReferee(url)


class _ToReferee(httpx.BaseTransport):
    def __init__(self, url: str) -> None:
        self._target = httpx.URL(url)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self._target.scheme, host=self._target.host, port=self._target.port
        )
        request.headers["Host"] = f"{self._target.host}:{self._target.port}"
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Kept open: every provider client of a worker closes its transport after use."""
