"""Concurrency leases that die with their worker: short, and renewed while the job runs.

A job admitted under a concurrency cap holds a lease in its rate key's lease set until it
ends. Leases used to last the whole time limit (600 s), so a killed worker's jobs blocked
their key for ten minutes. Here a lease lasts one heartbeat timeout and the worker's
heartbeat thread renews every lease its running jobs hold (:class:`HeldLeases`); a killed
process stops renewing, and its leases lapse within the heartbeat timeout — inside the
recovery bound, when its jobs come back.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from queueing import scripts
from workers.limiter import Limiter
from workers.middleware.rate_limit import rate_key_of, rate_policy_of


class HeldLeases(Middleware):
    """Tracks the leases this process's running jobs hold; :meth:`renew` extends them.

    Sits after :class:`workers.middleware.rate_limit.RateLimit`, whose skip (no slot) ends
    the ``before`` hooks: a job seen here runs, holding its lease when its key has a cap.
    """

    def __init__(self, limiter: Limiter, lease_ms: int) -> None:
        self.limiter = limiter
        self.lease_ms = lease_ms
        self._lock = threading.Lock()
        self._held: defaultdict[str, set[str]] = defaultdict(set)
        self._renew = scripts.register(limiter.redis, "leases_renew.lua")

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        key, policy = rate_key_of(message), rate_policy_of(message)
        if key is not None and policy is not None and policy.concurrency:
            with self._lock:
                self._held[key].add(message.message_id)

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, **_: Any
    ) -> None:
        self._forget(message)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._forget(message)

    def renew(self) -> None:
        """Extend every held lease to a full ``lease_ms`` from now (heartbeat thread)."""
        with self._lock:
            held = {key: sorted(jobs) for key, jobs in self._held.items() if jobs}
        for key, jobs in held.items():
            leases = self.limiter.prefix(key) + ":leases"
            self._renew(keys=[leases], args=[self.lease_ms, self.limiter.now_arg(), *jobs])

    def _forget(self, message: MessageProxy) -> None:
        key = rate_key_of(message)
        if key is None:
            return
        with self._lock:
            jobs = self._held.get(key)
            if jobs is not None:
                jobs.discard(message.message_id)
                if not jobs:
                    del self._held[key]
