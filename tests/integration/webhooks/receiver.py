"""A loopback HTTP receiver for delivery tests: records requests, answers as scripted."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """A scripted answer."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """Answers each request with the next scripted answer (then ``default``)."""

    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer()
        self.script: deque[Answer] = deque()
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.url = ""
        self.in_flight = 0
        self.max_in_flight = 0

    def then(self, *answers: Answer) -> Receiver:
        self.script.extend(answers)
        return self

    def answer(self, received: Received) -> Answer:
        with self.lock:
            self.requests.append(received)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.script.popleft() if self.script else self.default

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, like a real server

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver.answer(Received(self.path, headers, body))
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (read timeout tests): nothing to answer
            finally:
                receiver.done()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serving(receiver: Receiver, host: str = "127.0.0.1") -> Iterator[Receiver]:
    """Run ``receiver`` on a free loopback port until the block ends."""
    server = ThreadingHTTPServer((host, 0), _handler(receiver))
    server.daemon_threads = True
    port = server.server_address[1]
    receiver.url = f"http://{host}:{port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
