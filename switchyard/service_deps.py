"""The composition root's half of the services layer: each service's dependencies, taken
from a :class:`~switchyard.runtime.Runtime` in one place, so services never see the runtime."""

from __future__ import annotations

from typing import Any

from switchyard.runtime import Runtime
from switchyard.services.connections.deps import ConnectionDeps, OAuthOptions


def connection_deps(runtime: Runtime) -> ConnectionDeps:
    """What :mod:`switchyard.services.connections` needs; the event publisher and the
    provider-call context are built only when first used."""
    credentials = runtime.settings.credentials

    def publish(org_id: str, type: str, data: Any, **options: Any) -> object:
        return runtime.event_publisher.publish(org_id, type, data, **options)

    return ConnectionDeps(
        sessions=runtime.sessions,
        keyring=runtime.keyring,
        catalog=runtime.catalog,
        policy=runtime.outbound_policy,
        redis=runtime.redis,
        oauth=OAuthOptions(
            redirect_url=credentials.oauth_redirect_url,
            state_ttl_seconds=credentials.oauth_state_ttl_seconds,
            namespace=runtime.settings.workers.namespace,
            shared_account_providers=frozenset(credentials.shared_account_providers),
        ),
        publish=publish,
        provider_calls=lambda: runtime.worker_context,
        provider_settings=runtime.provider_settings,
        transport=runtime.sandbox.transport() if runtime.sandbox else None,
    )
