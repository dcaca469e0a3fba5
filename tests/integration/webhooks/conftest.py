"""A runtime whose outbound policy allows loopback receivers (as an operator running them
would configure), with a compressed retry schedule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import OutboundSettings, WebhookSettings
from tests.conftest import runtime_settings, unique
from tests.integration.webhooks.receiver import Receiver, serving

FAST_SCHEDULE = [0.0, 0.05, 0.05, 0.05]
LOOPBACK = ["127.0.0.1/32", "::1/128"]


def webhook_runtime(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    namespace: str,
    backend: str,
    providers: dict[str, Any] | None = None,
    **hooks: object,
) -> Runtime:
    settings = runtime_settings(
        backend=backend,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=providers,
    )
    options = {
        "retry_schedule_seconds": FAST_SCHEDULE,
        "retry_jitter": 0.0,
        "ordered_recheck_seconds": 0.2,
        **hooks,
    }
    outbound = OutboundSettings(allowed_networks=LOOPBACK)
    return build_runtime(
        settings.model_copy(update={"webhooks": WebhookSettings(**options), "outbound": outbound})
    )


@pytest.fixture(params=["embedded", "servers"])
def hooks_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """A runtime delivering to loopback, on fakeredis + SQLite, then Redis + PostgreSQL."""
    rt = webhook_runtime(request, tmp_path, namespace, request.param)
    yield rt
    rt.close()


@pytest.fixture
def hooks_org(hooks_runtime: Runtime) -> str:
    with hooks_runtime.sessions.begin() as session:
        return OrganizationRepository(session).create(unique("hooks")).id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running
