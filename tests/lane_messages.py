"""A job message as the lanes carry it, for tests that push, fetch and reschedule by hand."""

from __future__ import annotations

import uuid

import dramatiq


def job_message(org: str, queue: str = "action") -> dramatiq.Message[None]:
    """A message of a fresh job of ``org`` (its envelope's id, kind and org; no actor runs)."""
    job = {"id": uuid.uuid4().hex, "kind": queue, "org_id": org}
    return dramatiq.Message(queue_name=queue, actor_name="run", args=(job,), kwargs={}, options={})
