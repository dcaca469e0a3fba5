"""Reading a stored Dramatiq message body, refusing the ones a worker could not handle.

``Message.decode`` accepts any JSON object with the right field names; a body whose
``options`` is not an object, whose ``queue_name`` names another queue or whose id is not a
string passes it and then breaks a worker thread or the dead-set import far from the cause.
One check, here, serves the consumer (which parks such bodies) and the dead-set import
(which stores them raw).
"""

from __future__ import annotations

from typing import Any

from dramatiq import Message
from dramatiq.errors import DecodeError


def decode_body(data: bytes, queue: str | None = None) -> Message[Any]:
    """The message in ``data``; :class:`DecodeError` when it is not one a worker can run
    (of ``queue``, when given)."""
    message: Message[Any] = Message.decode(data)
    shape_ok = (
        isinstance(message.options, dict)
        and isinstance(message.kwargs, dict)
        and isinstance(message.actor_name, str)
        and isinstance(message.message_id, str)
        and isinstance(message.queue_name, str)
    )
    if not shape_ok:
        raise DecodeError("Message fields have the wrong types.", data, TypeError())  # type: ignore[no-untyped-call]
    if queue is not None and message.queue_name != queue:
        error = ValueError(f"queue_name {message.queue_name!r} in a body on queue {queue!r}")
        raise DecodeError("Message is on the wrong queue.", data, error)  # type: ignore[no-untyped-call]
    return message
