"""Calling a provider from a job: the connection's credential in, rate-limit feedback out.

Every handler that talks to a provider goes through :func:`call_provider`, so each request
takes its rate-limit slot at the moment it is sent (:mod:`workers.send_gate`) and each
response (success included) updates the shared limiter for the job's rate key — a provider
saying "budget spent" or stating its real limit slows every worker down at once — and
provider errors reach the Backoff middleware unchanged (``RateLimited`` defers,
``TransientError`` retries, the rest dead-letter). OAuth tokens are refreshed here on demand
(see :mod:`workers.token_refresh`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from contract.envelope import JobEnvelope
from contract.metrics import LIMITER_LEARNED_LIMIT, observe_provider_response
from providers.auth.credentials import (
    AdminSecrets,
    ApiKey,
    BasicCredential,
    BearerToken,
    admin_secrets_from_settings,
)
from providers.client import FormData, ProviderClient, ProviderResponse
from providers.errors import AuthError, ProviderError, RateLimited
from providers.ratelimit_feedback import NOTHING, RateLimitFeedback
from providers.spec import ProviderSpec, RateLimitPolicy
from providers.spec_auth import REFRESHABLE_AUTH_MODES
from storage.errors import NotFoundError
from storage.models import Connection
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from workers.context import WorkerContext
from workers.errors import AuthRefused, ConnectionUnusable
from workers.limiter import rate_key, rate_key_and_policy
from workers.send_gate import SendGate
from workers.token_refresh import RefreshTarget, ensure_fresh, is_refreshable, refresh

logger = logging.getLogger(__name__)
FEEDBACK_WARNING_EVERY_S = 10.0
_last_feedback_warning = [0.0]

Credential = BearerToken | ApiKey | BasicCredential | AdminSecrets


@dataclass(frozen=True)
class _Link:
    """A job's connection as a request needs it: account, stored secrets, refresh target."""

    account: dict[str, str]
    target: RefreshTarget
    stored: DecryptedCredential | None
    credential: Credential | None


@dataclass(frozen=True)
class _Call:
    """The request a job asked for, kept whole so a retry after a refresh repeats it."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    json: Any
    data: FormData | None
    headers: Mapping[str, str] | None
    extra_limit: RateLimitPolicy | None = None


def call_provider(
    context: WorkerContext,
    job: JobEnvelope,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: FormData | None = None,
    headers: Mapping[str, str] | None = None,
    extra_limit: RateLimitPolicy | None = None,
) -> ProviderResponse:
    """One authenticated request for the job's connection; feedback goes to the limiter.

    ``extra_limit`` is an endpoint's own limit on top of the provider's (HubSpot's CRM
    search: 5/s per account): the request takes a slot of each before it leaves.

    A token expiring within the catalog's margin is refreshed first; a 401 refreshes once
    and retries once, and a second 401 is :class:`AuthRefused` (dead letter, class ``auth``).
    """
    spec = context.catalog.get(job.provider)
    link = _connection(context, job, spec)
    call = _Call(method, path, params, json, data, headers, extra_limit)
    try:
        return _request(context, job, spec, link.account, link.credential, call)
    except AuthError as exc:
        if link.stored is None or not is_refreshable(link.stored):
            raise AuthRefused(f"{spec.name} refused the credential: {exc}") from None
        stale = link.stored.access_token.reveal() if link.stored.access_token else None
    stored = refresh(context, link.target, stale_access=stale)
    try:
        return _request(context, job, spec, link.account, _credential(stored), call)
    except AuthError as exc:
        raise AuthRefused(f"{spec.name} refused the credential after a refresh: {exc}") from None


def _send_gate(
    context: WorkerContext,
    job: JobEnvelope,
    spec: ProviderSpec,
    account: dict[str, str],
    limit: tuple[str, RateLimitPolicy],
    extra_limit: RateLimitPolicy | None,
) -> Callable[[], Callable[[], None]]:
    """The slot(s) a request takes right before it is sent: the provider's (``limit``: its
    key and policy), and first the endpoint's own limit when it has one (a refusal there
    leaves the provider's slot unused). Each returns what to tell once it is written."""
    key, policy = limit
    gate = SendGate(context.limiter, key, policy, job.id, spec.name)
    if extra_limit is None:
        return gate
    extra_key = rate_key(extra_limit, org_id=job.org_id, connection=job.connection, account=account)
    extra = SendGate(context.limiter, extra_key, extra_limit, job.id, spec.name)

    def both() -> Callable[[], None]:
        first = extra()
        try:
            second = gate()
        except BaseException:
            first()  # the endpoint's slot was taken: counted as sent now, never less
            raise

        def written() -> None:
            first()
            second()

        return written

    return both


def _request(
    context: WorkerContext,
    job: JobEnvelope,
    spec: ProviderSpec,
    account: dict[str, str],
    credential: Credential | None,
    call: _Call,
) -> ProviderResponse:
    key, policy = rate_key_and_policy(spec, context.accounts, job.org_id, job.connection)
    gate = _send_gate(context, job, spec, account, (key, policy), call.extra_limit)
    client = ProviderClient(
        spec,
        account,
        credential,
        transport=context.transport,
        observe=observe_provider_response,
        policy=context.outbound,
        before_send=gate,
    )
    try:
        response = client.request(
            call.method,
            call.path,
            params=call.params,
            json=call.json,
            data=call.data,
            headers=call.headers,
        )
    except ProviderError as exc:
        feedback = getattr(exc, "feedback", None) or NOTHING
        _learn(context, spec.name, key, policy, feedback, throttled=isinstance(exc, RateLimited))
        raise
    finally:
        client.close()
    _learn(context, spec.name, key, policy, response.feedback)
    return response


def _learn(
    context: WorkerContext,
    provider: str,
    key: str,
    policy: RateLimitPolicy,
    feedback: RateLimitFeedback,
    *,
    throttled: bool = False,
) -> None:
    """Tell the limiter what the answer said. The request was sent and answered, so a
    limiter that cannot be told must not fail the job (a retry would repeat the request)."""
    try:
        learned = context.limiter.apply_feedback(key, feedback, policy, throttled=throttled)
    except RedisError as exc:
        now = time.monotonic()
        if now - _last_feedback_warning[0] >= FEEDBACK_WARNING_EVERY_S:
            _last_feedback_warning[0] = now
            logger.warning("rate-limit feedback for %s not recorded: %s", provider, exc)
        return
    if learned.limit is not None or feedback.limit is not None or throttled:
        LIMITER_LEARNED_LIMIT.labels(provider).set(learned.limit or policy.limit)


def usable_connection(session: Session, job: JobEnvelope, provider: str) -> Connection:
    """The job's connection, if it exists and is connected; else :class:`ConnectionUnusable`
    (the job parks in the DLQ, replayable once the org reconnects)."""
    try:
        row = ConnectionRepository(session, job.org_id).get_by_provider(provider, job.connection)
    except NotFoundError:
        raise ConnectionUnusable(
            f"no connection {job.connection!r} to {provider}: connect it, then replay"
        ) from None
    if row.status != "connected":
        raise ConnectionUnusable(f"connection {job.connection!r} to {provider} is {row.status}")
    return row


def _connection(context: WorkerContext, job: JobEnvelope, spec: ProviderSpec) -> _Link:
    with context.sessions() as session:
        row = usable_connection(session, job, spec.name)
        account = {str(k): str(v) for k, v in (row.account_identifier or {}).items()}
        target = RefreshTarget(job.org_id, row.id, row.name, spec, account)
        if spec.auth.mode in {"admin_credential", "none"}:
            return _Link(account, target, None, _operator_credential(context, spec))
        try:
            stored = CredentialRepository(session, job.org_id, context.keyring).load(row.id)
        except NotFoundError:
            raise ConnectionUnusable(f"connection {job.connection!r} has no credential") from None
    stored = ensure_fresh(context, target, stored)
    return _Link(account, target, stored, _credential(stored))


def _operator_credential(context: WorkerContext, spec: ProviderSpec) -> Credential | None:
    if spec.auth.mode == "none":
        return None
    return admin_secrets_from_settings(spec, context.provider_settings.get(spec.name, {}))


def _credential(stored: DecryptedCredential) -> Credential:
    """The stored secrets as the client's credential type for the auth mode."""
    if stored.auth_mode in REFRESHABLE_AUTH_MODES and stored.access_token:
        return BearerToken(stored.access_token.reveal())
    if stored.auth_mode == "api_key" and stored.api_key:
        return ApiKey(stored.api_key.reveal())
    if stored.auth_mode == "basic" and stored.secret:
        username = str(stored.extra.get("username", ""))
        return BasicCredential(username, stored.secret.reveal())
    raise ConnectionUnusable(f"the stored credential does not fit auth mode {stored.auth_mode!r}")
