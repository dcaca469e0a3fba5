"""Calling a provider from a job: the connection's credential in, rate-limit feedback out.

Every handler that talks to a provider goes through :func:`call_provider`, so each response
(success included) updates the shared limiter for the job's rate key — a provider saying
"budget spent" slows every worker down at once — and provider errors reach the Backoff
middleware unchanged (``RateLimited`` defers, ``TransientError`` retries, the rest dead-letter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.auth.credentials import (
    AdminSecrets,
    ApiKey,
    BasicCredential,
    BearerToken,
    admin_secrets_from_settings,
)
from providers.client import ProviderClient, ProviderResponse
from providers.errors import ProviderError
from providers.spec import ProviderSpec
from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from workers.context import WorkerContext
from workers.envelope import JobEnvelope
from workers.errors import PermanentJobError
from workers.limiter import rate_key_and_policy

Credential = BearerToken | ApiKey | BasicCredential | AdminSecrets


class ConnectionError_(PermanentJobError):
    """The job's connection is missing, disconnected or broken: reconnect, then replay."""

    error_class = "connection_error"


def call_provider(
    context: WorkerContext,
    job: JobEnvelope,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProviderResponse:
    """One authenticated request for the job's connection; feedback goes to the limiter."""
    spec = context.catalog.get(job.provider)
    account, credential = _connection(context, job, spec)
    key, policy = rate_key_and_policy(spec, context.accounts, job.org_id, job.connection)
    client = ProviderClient(spec, account, credential, transport=context.transport)
    try:
        response = client.request(
            method, path, params=params, json=json, data=data, headers=headers
        )
    except ProviderError as exc:
        if getattr(exc, "feedback", None) is not None:
            context.limiter.apply_feedback(key, exc.feedback, policy)  # type: ignore[attr-defined]
        raise
    finally:
        client.close()
    context.limiter.apply_feedback(key, response.feedback, policy)
    return response


def _connection(
    context: WorkerContext, job: JobEnvelope, spec: ProviderSpec
) -> tuple[dict[str, str], Credential | None]:
    with context.sessions() as session:
        try:
            row = ConnectionRepository(session, job.org_id).get_by_provider(
                spec.name, job.connection
            )
        except NotFoundError:
            raise ConnectionError_(
                f"no connection {job.connection!r} to {spec.name}: connect it, then replay"
            ) from None
        if row.status != "connected":
            raise ConnectionError_(f"connection {job.connection!r} to {spec.name} is {row.status}")
        account = {str(k): str(v) for k, v in (row.account_identifier or {}).items()}
        if spec.auth.mode in {"admin_credential", "none"}:
            return account, _operator_credential(context, spec)
        try:
            stored = CredentialRepository(session, job.org_id, context.keyring).load(row.id)
        except NotFoundError:
            raise ConnectionError_(f"connection {job.connection!r} has no credential") from None
    return account, _credential(stored)


def _operator_credential(context: WorkerContext, spec: ProviderSpec) -> Credential | None:
    if spec.auth.mode == "none":
        return None
    return admin_secrets_from_settings(spec, context.provider_settings.get(spec.name, {}))


def _credential(stored: DecryptedCredential) -> Credential:
    """The stored secrets as the client's credential type for the auth mode."""
    if stored.auth_mode in {"oauth2_code", "oauth2_client_credentials"} and stored.access_token:
        return BearerToken(stored.access_token.reveal())
    if stored.auth_mode == "api_key" and stored.api_key:
        return ApiKey(stored.api_key.reveal())
    if stored.auth_mode == "basic" and stored.secret:
        username = str(stored.extra.get("username", ""))
        return BasicCredential(username, stored.secret.reveal())
    raise ConnectionError_(f"the stored credential does not fit auth mode {stored.auth_mode!r}")
