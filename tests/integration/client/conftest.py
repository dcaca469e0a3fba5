"""The live API for client tests: uvicorn on a loopback port, real Redis + PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from providers.sandbox import Sandbox
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import _SESSION_NAMESPACES, runtime_settings, unique


@dataclass(frozen=True)
class Live:
    base: str
    runtime: Runtime
    org_id: str
    org_name: str
    org_key: str
    admin_key: str


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """The API served by uvicorn (provider calls to the in-process sandbox), an org with a
    key, and an admin key."""
    namespace = "t" + uuid.uuid4().hex[:10]
    _SESSION_NAMESPACES.add(namespace)
    settings = runtime_settings(
        backend="servers",
        tmp_path=Path(tmp_path_factory.mktemp("client")),
        namespace=namespace,
        request=request,
    )
    runtime = build_runtime(settings, sandbox=Sandbox(seed=1))
    name = unique("client")
    with runtime.sessions.begin() as session:
        org_id = OrganizationRepository(session).create(name).id
        keys = ApiKeyRepository(session)
        org_key, admin_key = (
            keys.create(org_id, "c").key.reveal(),
            keys.create(None, "a").key.reveal(),
        )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    _wait_until_serving(base)
    yield Live(base, runtime, org_id, name, org_key, admin_key)
    server.should_exit = True
    thread.join(timeout=10)
    runtime.close()


def _wait_until_serving(base: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the API did not start serving at {base}")
