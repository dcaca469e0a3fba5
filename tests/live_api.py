"""The API served for real: uvicorn on a free loopback port in a thread, over a runtime on
real Redis and PostgreSQL (provider calls go to the in-process sandbox). Shared by the
client tests and the fuzz stage."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from providers.sandbox import Sandbox
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import _SESSION_NAMESPACES, runtime_settings


def live_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, label: str
) -> Runtime:
    """A runtime on the servers in a namespace of its own (dropped at session end)."""
    namespace = "t" + uuid.uuid4().hex[:10]
    _SESSION_NAMESPACES.add(namespace)
    settings = runtime_settings(
        backend="servers",
        tmp_path=Path(tmp_path_factory.mktemp(label)),
        namespace=namespace,
        request=request,
    )
    return build_runtime(settings, sandbox=Sandbox(seed=1))


@contextmanager
def served(runtime: Runtime) -> Iterator[str]:
    """The API of ``runtime`` served until the block ends; yields its base URL once it
    answers ``/healthz``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        _wait_until_serving(base)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_until_serving(base: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the API did not start serving at {base}")
