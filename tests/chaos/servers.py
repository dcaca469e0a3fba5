"""The provider of the chaos suite: a loopback stand-in that counts a marker per job, so
side effects are counted outside Switchyard. (The Redis and PostgreSQL the suite kills are
:mod:`tests.integration.private_servers`.)"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def wait_until(condition: object, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


class StandIn:
    """The provider: a threaded loopback HTTP server counting the marker ``m`` of each
    request and the arrival time of every request. ``/dead`` answers 400 (a permanent
    failure); ``ms=<n>`` sleeps n ms first."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.arrivals: list[float] = []  # time.time() when each request line was read
        self.in_flight: set[str] = set()
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                url = urlparse(self.path)
                query = parse_qs(url.query)
                marker = query.get("m", [""])[0]
                delay_ms = int(query.get("ms", ["0"])[0])
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                with stand_in._lock:
                    stand_in.arrivals.append(arrived)
                    stand_in.in_flight.add(marker)
                if delay_ms:
                    time.sleep(delay_ms / 1000)
                with stand_in._lock:
                    stand_in.hits[marker] += 1
                    stand_in.in_flight.discard(marker)
                status = 400 if url.path == "/dead" else 200
                body = b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller was killed while we answered
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a serve_forever that never ran
            self.server.shutdown()
        self.server.server_close()

    def serving(self) -> set[str]:
        """Markers whose request is being answered right now."""
        with self._lock:
            return set(self.in_flight)

    def arrival_times(self) -> list[float]:
        with self._lock:
            return sorted(self.arrivals)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.hits)
