"""Outbound webhook delivery throughput to a local receiver (deliveries/s).

``BENCH_DELIVERIES`` events (2000 by default) are published to one org with one endpoint on
a loopback receiver (its own process) that answers 200 at once; in-process worker threads
(``BENCH_THREADS``, 8) then drain them, each delivery going through the whole path: job
admission, endpoint and event reads, Standard Webhooks signing, the SSRF-guarded client,
the HTTP round trip and the attempt log. Reported: publish rate (events/s, each fanned out
to one delivery job) and delivery rate (deliveries/s) from the first worker start to the
last delivery logged.

The ordered case (``BENCH_ORDERED_EVENTS``, 500): that many events to one *ordered* endpoint
(``max_concurrency`` 1) answering 200, published before the workers start (a backlog), so
every delivery but the first waits for its predecessor. Reported: events/s from the first
worker start to the last delivery, and ordering violations (an event received before an
older one). Target: at least 50 events/s, 0 violations.

Real Redis (``BENCH_REDIS_URL``); the database is ``BENCH_DATABASE_URL`` (a PostgreSQL URL)
when given, else a SQLite file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.crypto import generate_key_item
from storage.migrate import upgrade
from storage.models import WebhookDelivery
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from workers.inprocess import run_until_idle

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, like a real server
    seen: Any = None  # a multiprocessing queue receiving each body's ``n``, when set

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.seen is not None:
            self.seen.put(json.loads(body)["data"]["n"])
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return


def _runtime(workdir: Path, namespace: str) -> Runtime:
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(database)
    return build_runtime(
        load_settings(
            _env_file=None,
            redis_url=REDIS_URL,
            database_url=database,
            data_dir=workdir,
            workers={"namespace": namespace},
            security={"encryption_keys": [generate_key_item("bench")]},
            webhooks={"allowed_private_networks": ["127.0.0.1/32"]},
        )
    )


def _serve(port: Any, seen: Any = None) -> None:
    """The receiver, in its own process so it does not share the workers' GIL."""
    _Ok.seen = seen
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    port.put(server.server_address[1])
    server.serve_forever()


def delivery_throughput(deliveries: int, threads: int) -> float:
    """Publish ``deliveries`` events to one loopback endpoint, drain them; deliveries/s."""
    port: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{port.get(timeout=30)}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        rt = _runtime(Path(tmp), "wb" + uuid.uuid4().hex[:8])
        try:
            with rt.sessions.begin() as session:
                org = OrganizationRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}").id
                WebhookEndpointRepository(session, org, rt.keyring).create(url)
            started = time.perf_counter()
            for n in range(deliveries):
                rt.event_publisher.publish(org, "QR_SCANNED", {"n": n, "qr": "bench"})
            published = time.perf_counter() - started
            started = time.perf_counter()
            run_until_idle(rt.worker_broker, rt.lanes, threads=threads, timeout_s=3600)
            drained = time.perf_counter() - started
            with rt.sessions() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.org_id == org, WebhookDelivery.status == "delivered")
                )
        finally:
            rt.close()
            receiver.terminate()
    backend = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    rate = (done or 0) / drained
    print(
        f"webhook deliveries ({backend}, {threads} threads): {done}/{deliveries} delivered; "
        f"publish {deliveries / published:,.0f} events/s; delivery {rate:,.0f} deliveries/s"
    )
    return rate


def ordered_throughput(events: int, threads: int) -> tuple[float, int]:
    """A backlog of ``events`` to one ordered endpoint: (events/s, ordering violations)."""
    port: Any = multiprocessing.Queue()
    seen: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(port, seen), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{port.get(timeout=30)}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        rt = _runtime(Path(tmp), "wo" + uuid.uuid4().hex[:8])
        try:
            with rt.sessions.begin() as session:
                org = OrganizationRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}").id
                WebhookEndpointRepository(session, org, rt.keyring).create(url, max_concurrency=1)
            for n in range(events):
                rt.event_publisher.publish(org, "QR_SCANNED", {"n": n, "qr": "bench"})
            started = time.perf_counter()
            run_until_idle(rt.worker_broker, rt.lanes, threads=threads, timeout_s=3600)
            drained = time.perf_counter() - started
        finally:
            rt.close()
            received = [seen.get(timeout=30) for _ in range(events)]
            receiver.terminate()
    violations = sum(1 for a, b in pairwise(received) if b < a)
    backend = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    rate = len(received) / drained
    print(
        f"ordered webhook endpoint ({backend}, {threads} threads): {len(received)}/{events} "
        f"delivered in {drained:.1f}s; {rate:,.0f} events/s; {violations} ordering violations "
        "(target >= 50 events/s, 0 violations)"
    )
    return rate, violations


def main() -> None:
    threads = int(os.environ.get("BENCH_THREADS", "8"))
    delivery_throughput(int(os.environ.get("BENCH_DELIVERIES", "2000")), threads)
    ordered_throughput(int(os.environ.get("BENCH_ORDERED_EVENTS", "500")), threads)


if __name__ == "__main__":
    main()
