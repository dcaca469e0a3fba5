"""A producer that SIGKILLs itself around its lane write, to show what a crash leaves behind.

Run as ``python -m tests.integration.producers.enqueue_victim ORG KEY WHEN`` with a runtime's
environment; ``WHEN`` is ``before`` (dies as it sends the first Redis script of the enqueue,
the lane write) or ``after`` (dies as that script's reply arrives). The script may be sent
alone or in a pipeline with the job's state writes: either way is intercepted.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from switchyard.runtime import build_runtime

SCRIPT_COMMANDS = {"EVAL", "EVALSHA"}


def main(org: str, key: str, when: str) -> None:
    runtime = build_runtime()
    send = runtime.redis.execute_command

    def dying_send(*args: Any, **options: Any) -> Any:
        is_script = str(args[0]).upper() in SCRIPT_COMMANDS
        if is_script and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        reply = send(*args, **options)
        if is_script and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return reply

    runtime.redis.execute_command = dying_send  # type: ignore[method-assign]
    make_pipeline = runtime.redis.pipeline

    def dying_pipeline(*args: Any, **options: Any) -> Any:
        pipe = make_pipeline(*args, **options)
        execute = pipe.execute

        def dying_execute(*a: Any, **o: Any) -> Any:
            stack = pipe.command_stack
            is_script = any(str(c[0][0]).upper() in SCRIPT_COMMANDS for c in stack)
            if is_script and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            reply = execute(*a, **o)
            if is_script and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return reply

        pipe.execute = dying_execute
        return pipe

    runtime.redis.pipeline = dying_pipeline  # type: ignore[method-assign]
    job = {"kind": "action", "org_id": org, "provider": "hubspot"}
    runtime.enqueuer.enqueue({**job, "payload": {"action": "noop"}, "idempotency_key": key})


if __name__ == "__main__":
    main(*sys.argv[1:4])
