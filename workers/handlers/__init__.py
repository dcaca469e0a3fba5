"""Job handlers: plain functions of (envelope, context), one module per kind.

Actors stay thin and look the handler up here; a kind without a handler in this deployment
is refused as :class:`UnsupportedJobError`, so the job lands in the dead-letter queue with
that reason instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Callable

from contract.envelope import JobEnvelope, Kind
from workers.context import WorkerContext
from workers.errors import UnsupportedJobError
from workers.handlers import action, deliver, inbound, refresh, sync

Handler = Callable[[JobEnvelope, WorkerContext], object]

HANDLERS: dict[Kind, Handler] = {
    Kind.ACTION: action.handle,
    Kind.REFRESH: refresh.handle,
    Kind.DELIVER: deliver.handle,
    Kind.INBOUND: inbound.handle,
    Kind.SYNC: sync.handle,
}


def handler_for(kind: Kind) -> Handler:
    """The handler of a kind, or :class:`UnsupportedJobError` naming it."""
    try:
        return HANDLERS[kind]
    except KeyError:
        raise UnsupportedJobError(f"no handler for kind {kind.value!r} in this version") from None
