"""A real lost reply: Redis runs a worker's fetch, the connection dies before the answer.

A loopback TCP proxy between the broker and the real Redis forwards the fetch, takes Redis's
reply and closes both sides instead of passing it on (as a master killed between running
the script and answering). redis-py re-sends the command on a new connection (its default
retries), the second fetch succeeds, and the broker never sees an error: the first fetch's
jobs sit in the ack set of a live worker, which the recovery sweep never looks at. The
second test puts a whole worker behind the proxy, losing one reply in 40 of every kind.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pytest
from prometheus_client import REGISTRY
from redis import Redis

from queueing.keys import QueueKeys
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import WorkerSettings
from tests.conftest import new_org
from tests.integration.workers.run_counter import RunCounter, wait_for
from tests.lane_messages import job_message
from workers.lane_broker import LaneFedBroker
from workers.lanes import Lanes
from workers.recovery import beat_interval_ms

ORG = "org-1"
HEARTBEAT_MS = WorkerSettings.model_fields["heartbeat_timeout_ms"].default


class ReplyDroppingProxy:
    """Forwards loopback TCP to ``upstream``; when armed (or at every ``drop_every``-th
    read of replies), swallows that reply and closes its connection (both sides)."""

    def __init__(self, upstream: tuple[str, int], drop_every: int = 0) -> None:
        self.upstream = upstream
        self.armed = threading.Event()
        self.dropped = threading.Event()
        self.drops = 0
        self._drop_every = drop_every
        self._replies = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(65_536):
                if replies and self._drop_now():
                    break  # the reply is lost with the connection
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            sock.close()

    def _drop_now(self) -> bool:
        with self._lock:
            self._replies += 1
            due = bool(self._drop_every) and self._replies % self._drop_every == 0
            if not (due or self.armed.is_set()):
                return False
            self.armed.clear()
            self.dropped.set()
            self.drops += 1
            return True


@contextmanager
def proxied_broker(
    redis_url: str, namespace: str
) -> Iterator[tuple[LaneFedBroker, ReplyDroppingProxy]]:
    upstream = Redis.from_url(redis_url).connection_pool.connection_kwargs
    proxy = ReplyDroppingProxy((upstream["host"], int(upstream["port"])))
    client = Redis(host="127.0.0.1", port=proxy.port, db=upstream.get("db", 0))
    broker = LaneFedBroker(
        lanes=Lanes(client, namespace),
        client=client,
        namespace=namespace,
        middleware=[],
        heartbeat_timeout=HEARTBEAT_MS,  # periodic reclaims every beat (3.75 s)
    )
    broker.declare_queue("action")
    try:
        yield broker, proxy
    finally:
        broker.close()
        proxy.close()


@pytest.mark.slow
def test_jobs_of_a_fetch_whose_reply_redis_py_lost_and_resent_come_back(
    redis_url: str, namespace: str
) -> None:
    """Two fetches ran, one answered: the unanswered one's jobs are fetched again within a
    beat (production heartbeat), and the answered ones (held by the worker) are not."""
    with proxied_broker(redis_url, namespace) as (broker, proxy):
        for _ in range(4):
            broker.lanes.push_message(job_message(ORG), org=ORG, priority=5)
        assert broker.do_fetch("action", 0) == []  # scripts loaded, connection up
        proxy.armed.set()
        held = broker.do_fetch("action", 2)
        assert proxy.dropped.is_set() and len(held) == 2
        acks = QueueKeys(namespace, "action").acks(broker.broker_id)
        assert broker.client.scard(acks) == 4  # two held, two stranded
        came_back: list[bytes] = []

        def fetched_again() -> bool:
            came_back.extend(redis_id for redis_id, _, _ in broker.do_fetch("action", 2))
            return len(came_back) >= 2

        wait_for(fetched_again, 2 * beat_interval_ms(HEARTBEAT_MS) / 1000, "strays fetched")
        assert len(came_back) == 2
        assert set(came_back).isdisjoint(redis_id for redis_id, _, _ in held)
        assert broker.client.scard(acks) == 4  # each id once, none queued twice


def reclaimed() -> float:
    value = REGISTRY.get_sample_value("switchyard_fetches_reclaimed_total", {"queue": "action"})
    return value or 0.0


@pytest.mark.slow
def test_a_worker_losing_one_reply_in_forty_still_runs_every_job(
    server_runtime: Runtime, namespace: str
) -> None:
    """A whole worker (limiter, job state, acks, fetches) behind a proxy that loses one reply
    in 40: every job enqueued still runs, at least once (production settings)."""
    settings = server_runtime.settings
    upstream = Redis.from_url(str(settings.redis_url)).connection_pool.connection_kwargs
    proxy = ReplyDroppingProxy((upstream["host"], int(upstream["port"])), drop_every=40)
    proxied = f"redis://127.0.0.1:{proxy.port}/{upstream.get('db', 0)}"
    worker_rt = build_runtime(settings.model_copy(update={"redis_url": proxied}))
    counter = RunCounter()
    worker_rt.worker_broker.add_middleware(counter)
    orgs = [new_org(server_runtime) for _ in range(10)]
    job = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}
    ids = [
        server_runtime.enqueuer.enqueue(job | {"org_id": orgs[i % 10]}).job_id for i in range(300)
    ]
    reclaimed_before = reclaimed()
    worker = dramatiq.Worker(worker_rt.worker_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        wait_for(lambda: set(ids) <= set(counter.runs), 90, "every job ran")
    finally:
        worker.stop()
        worker_rt.close()
        proxy.close()
    duplicates = sum(n - 1 for n in counter.runs.values())
    print(
        f"\nreplies lost: {proxy.drops}; jobs 300, ran {len(counter.runs)}, "
        f"duplicates {duplicates}, reclaimed {reclaimed() - reclaimed_before:.0f}"
    )
    assert proxy.drops > 0
