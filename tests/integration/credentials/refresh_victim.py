"""A process that refreshes one credential and SIGKILLs itself at a chosen step.

Run as ``python -m tests.integration.credentials.refresh_victim ORG CONNECTION PROVIDER STEP``
with the runtime's environment; the order-of-writes test checks what a death at each step
leaves behind.
"""

from __future__ import annotations

import os
import signal
import sys

from storage.repositories.connections import ConnectionRepository
from switchyard.runtime import build_runtime
from workers.token_refresh import RefreshStep, RefreshTarget, refresh


def main(org: str, connection_id: str, provider: str, stop_at: str) -> None:
    runtime = build_runtime()
    spec = runtime.catalog.get(provider)
    with runtime.sessions() as session:
        row = ConnectionRepository(session, org).get(connection_id)
        account = {str(k): str(v) for k, v in row.account_identifier.items()}
    target = RefreshTarget(org, connection_id, row.name, spec, account)

    def die_at(step: RefreshStep) -> None:
        if step.value == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)

    refresh(runtime.worker_context, target, force=True, on_step=die_at)


if __name__ == "__main__":
    main(*sys.argv[1:5])
