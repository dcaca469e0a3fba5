"""A loopback OAuth token endpoint that rotates refresh tokens, counts what it is asked, and
can answer slowly — rotating first, as providers do, so a client killed while waiting has
lost the new pair."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class RotatingOAuth:
    """Token state: the live refresh token, retired ones (with the pair that replaced them)."""

    grace_seconds: float = 0.0
    delay_seconds: float = 0.0
    lifetime: int = 3600
    live: str = field(default_factory=lambda: "rt-" + secrets.token_hex(8))
    calls: int = 0
    reuses: int = 0
    refusals: int = 0
    rotated: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _families: set[str] = field(default_factory=set)  # live tokens of :meth:`issue`
    _retired: dict[str, tuple[float, dict[str, object]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, refresh_token: str) -> tuple[int, dict[str, object], float]:
        """(status, body, seconds to wait before answering) for one refresh request."""
        with self._lock:
            self.calls += 1
            if refresh_token == self.live or refresh_token in self._families:
                pair = self._pair()
                self._retired[refresh_token] = (time.monotonic(), pair)
                if refresh_token == self.live:
                    self.live = str(pair["refresh_token"])
                else:
                    self._families.discard(refresh_token)
                    self._families.add(str(pair["refresh_token"]))
                self.rotated.set()
                return 200, pair, self.delay_seconds
            retired = self._retired.get(refresh_token)
            if retired is not None and time.monotonic() - retired[0] <= self.grace_seconds:
                self.reuses += 1
                return 200, retired[1], 0.0
            self.refusals += 1
            return 400, {"error": "invalid_grant", "error_description": "token retired"}, 0.0

    def issue(self) -> str:
        """The first refresh token of a new token family (one per connection), rotated
        independently of :attr:`live` and of the other families."""
        token = "rt-" + secrets.token_hex(8)
        with self._lock:
            self._families.add(token)
        return token

    def _pair(self) -> dict[str, object]:
        return {
            "access_token": "at-" + secrets.token_hex(8),
            "refresh_token": "rt-" + secrets.token_hex(8),
            "expires_in": self.lifetime,
            "token_type": "bearer",
        }


def _handler(oauth: RotatingOAuth) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            if len(raw) < length:
                return  # the client died mid-send: no token was presented, nothing to count
            form = dict(parse_qsl(raw.decode()))
            status, answer, delay = oauth.grant(form.get("refresh_token", ""))
            time.sleep(delay)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serving(oauth: RotatingOAuth) -> Iterator[RotatingOAuth]:
    """Serve the token endpoint on a free loopback port (``oauth.url``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(oauth))
    server.daemon_threads = True
    oauth.url = f"http://127.0.0.1:{server.server_address[1]}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield oauth
    finally:
        server.shutdown()
        server.server_close()
