"""A sandbox served over loopback (uvicorn in a thread) that worker processes can reach,
while the test keeps the :class:`Sandbox` object to inject faults and count writes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from providers.sandbox import Sandbox
from providers.sandbox.asgi import create_app
from switchyard.cli.sandbox import env_lines
from switchyard.settings import OutboundSettings, Settings


@contextmanager
def served(sandbox: Sandbox) -> Iterator[str]:
    """Serve ``sandbox`` on a free loopback port; yields its root URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(sandbox), host="127.0.0.1", port=port, log_level="error", backlog=4096
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "sandbox server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sandbox_env(sandbox: Sandbox, root: str) -> dict[str, str]:
    """The ``SWITCHYARD_PROVIDERS__...`` variables pointing a process at the served sandbox,
    and the outbound allowance for its loopback address (what ``switchyard sandbox`` prints)."""
    return dict(line.split("=", 1) for line in env_lines(sandbox, root))


def allowing_sandbox(settings: Settings) -> Settings:
    """``settings`` with the served sandbox's loopback address allowed, as an operator would
    (production defaults refuse loopback)."""
    allowance = OutboundSettings(allowed_networks=["127.0.0.1/32"])
    return settings.model_copy(update={"outbound": allowance})
