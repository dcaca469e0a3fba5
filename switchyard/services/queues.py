"""Backlog per org: how many of an org's jobs are laned, waiting and running, per queue.

An org sees its own lanes; an operator (``org_id`` None) every org's. Metrics cannot say
this (they leave the org label out by design), so it is read from the lanes on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.envelope import Kind
from workers.lane_backlog import BacklogReader
from workers.lanes import Lanes

QUEUES = tuple(kind.value for kind in Kind)


@dataclass(frozen=True)
class QueueBacklog:
    org_id: str
    queue: str
    laned: int
    waiting: int
    running: int
    oldest_due_age_seconds: float | None


@dataclass(frozen=True)
class Backlog:
    queues: list[QueueBacklog]
    complete: bool
    """False when a very large waiting set or queue was counted only in part."""


def queue_backlog(lanes: Lanes, org_id: str | None) -> Backlog:
    """Depth per (org, queue) and state; with ``org_id``, that org's queues only (all of
    them, zeros included), else every org with jobs anywhere."""
    reader = BacklogReader(lanes)
    rows: list[QueueBacklog] = []
    complete = True
    for queue in QUEUES:
        found, whole = reader.backlog(queue, org_id)
        complete = complete and whole
        for org, b in sorted(found.items()):
            age = None if b.next_due_age_ms is None else b.next_due_age_ms / 1000
            if org_id is None and not (b.laned or b.waiting or b.admitted):
                continue
            rows.append(QueueBacklog(org, queue, b.laned, b.waiting, b.admitted, age))
    return Backlog(rows, complete)
