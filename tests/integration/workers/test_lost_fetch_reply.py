"""A real lost reply: Redis runs a worker's fetch, the connection dies before the answer.

A loopback TCP proxy between the broker and the real Redis forwards the fetch, takes Redis's
reply and closes both sides instead of passing it on (as a master killed between running
the script and answering). redis-py re-sends the command on a new connection (its default
retries), the second fetch succeeds, and the broker never sees an error: the first fetch's
jobs sit in the ack set of a live worker, which the recovery sweep never looks at.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pytest
from redis import Redis

from queueing.keys import QueueKeys
from workers.lane_broker import LaneFedBroker
from workers.lanes import Lanes

ORG = "org-1"


class ReplyDroppingProxy:
    """Forwards loopback TCP to ``upstream``; when armed, swallows the next reply and
    closes that connection (both sides)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.armed = threading.Event()
        self.dropped = threading.Event()
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
                if replies and self.armed.is_set():
                    self.armed.clear()
                    self.dropped.set()
                    break  # the reply is lost with the connection
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            sock.close()


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
        heartbeat_timeout=1_000,  # beats (and periodic reclaims) every 250 ms
    )
    broker.declare_queue("action")
    try:
        yield broker, proxy
    finally:
        broker.close()
        proxy.close()


def job() -> dramatiq.Message[None]:
    data = {"id": uuid.uuid4().hex, "org_id": ORG}
    return dramatiq.Message(
        queue_name="action", actor_name="run", args=(data,), kwargs={}, options={}
    )


@pytest.mark.slow
def test_jobs_of_a_fetch_whose_reply_redis_py_lost_and_resent_come_back(
    redis_url: str, namespace: str
) -> None:
    """Two fetches ran, one answered: the unanswered one's jobs are fetched again within a
    beat, and the answered ones (held by the worker) are not."""
    with proxied_broker(redis_url, namespace) as (broker, proxy):
        for _ in range(4):
            broker.lanes.push_message(job(), org=ORG, priority=5)
        assert broker.do_fetch("action", 0) == []  # scripts loaded, connection up
        proxy.armed.set()
        held = broker.do_fetch("action", 2)
        assert proxy.dropped.is_set() and len(held) == 2
        acks = QueueKeys(namespace, "action").acks(broker.broker_id)
        assert broker.client.scard(acks) == 4  # two held, two stranded
        came_back: list[bytes] = []
        for _ in range(40):
            came_back += [redis_id for redis_id, _, _ in broker.do_fetch("action", 2)]
            if len(came_back) >= 2:
                break
            threading.Event().wait(0.05)
        assert len(came_back) == 2
        assert set(came_back).isdisjoint(redis_id for redis_id, _, _ in held)
        assert broker.client.scard(acks) == 4  # each id once, none queued twice
