"""Refreshing a connection's OAuth token: one refresh per token at a time, none ever lost.

Single flight
    Within a process, refreshes of one connection queue on a local lock (the embedded
    SQLite default has no row locks). Across processes the credential row is locked
    (``SELECT ... FOR UPDATE`` on PostgreSQL) and the write is fenced by ``version``. After
    taking the lock the credential is read again: when another worker refreshed meanwhile,
    its token is used (outcome ``lost_race``) and the provider is not called. A pending
    refresh intent seen under the lock is therefore one whose refresher died (SQLite serves
    one worker process, whose local lock plays that part).

Order of writes (rotating refresh tokens)
    1. lock the row; nothing written yet                        -> step ``locked``
    2. commit a pending *refresh intent* (a second session: :class:`RefreshIntent`)
    3. call the token endpoint with the stored refresh token    -> step ``answered``
    4. write the new pair (version + 1), unmark the intent and COMMIT at once: before the
       access token is used and before events or metrics        -> step ``committed``
    5. hand the new access token to the caller
    Dying before 2 leaves the old pair, still valid. Dying after 4 leaves the new pair.
    Dying *during* 3 (the provider rotates when it receives the request, so the window is
    the whole token call, seconds with a slow provider) or between 3 and 4 loses the new
    pair: it existed only in the dead process. The intent is then still pending at the
    credential's version, and the next refresh, once it holds the lock, does not present
    the old token again (a single-use token's reuse is refused, or revokes its whole family
    where the provider detects reuse): it puts the connection in ``error``, "reconnect
    needed", without calling the provider. Where the provider's last answer showed it does
    not rotate (``rotates`` false), the old token is still valid and is presented as usual.
    A request that fails in this process (timeout, reset, 5xx) unmarks the intent and is
    retried with the same token, as a failure the provider answered is.

Failures
    ``invalid_grant`` (or no refresh token at all) puts the connection in ``error`` with the
    reason *inside the locked transaction*, and the status is read only once the lock is
    held, so the workers queued on the lock — in any process — see it and do not call the
    provider (one token call in total); an ``integration.error`` event follows, and queued
    jobs dead-letter as ``connection_error`` at ``call_provider``'s status check. A transient
    token-endpoint failure leaves the connection alone and is retried with backoff like any
    transient error; it also starts a short cooldown shared in Redis, during which jobs
    needing a refresh are deferred (no attempt spent) instead of calling the provider.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from contract.metrics import TOKEN_REFRESHES
from providers.auth.oauth import TokenClient, TokenSet, app_credentials_from_settings
from providers.errors import AuthError, InvalidGrant, RateLimited, TransientError
from providers.spec import OAuth2ClientCredentialsAuth, OAuth2CodeAuth, ProviderSpec
from providers.spec_auth import REFRESHABLE_AUTH_MODES
from queueing import keys
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository, DecryptedCredential
from storage.repositories.refresh_intents import RefreshIntentRepository
from storage.types import utcnow
from workers.context import WorkerContext
from workers.errors import AuthRefused, ConnectionUnusable

log = logging.getLogger("switchyard.credentials")

#: After a transient token-endpoint failure, other jobs wait this long before calling again.
COOLDOWN_SECONDS = 2.0


class RefreshStep(StrEnum):
    """Points of the order of writes a test can stop the process at."""

    LOCKED = "locked"
    ANSWERED = "answered"
    COMMITTED = "committed"


StepHook = Callable[[RefreshStep], None]


@dataclass(frozen=True)
class RefreshTarget:
    """The connection whose credential is refreshed, and its provider's catalog entry."""

    org_id: str
    connection_id: str
    connection_name: str
    spec: ProviderSpec
    account: Mapping[str, str]


def is_refreshable(credential: DecryptedCredential) -> bool:
    """True for credentials a token endpoint can renew."""
    return credential.auth_mode in REFRESHABLE_AUTH_MODES


def expires_soon(credential: DecryptedCredential, spec: ProviderSpec, now: datetime) -> bool:
    """True when the access token expires within its refresh margin: the catalog's
    ``refresh_margin_seconds``, capped at a fraction of the token's own lifetime."""
    auth = spec.auth
    if credential.expires_at is None or not isinstance(
        auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth
    ):
        return False
    margin = auth.refresh_margin(credential.lifetime_seconds)
    return credential.expires_at - now <= timedelta(seconds=margin)


def ensure_fresh(
    context: WorkerContext, target: RefreshTarget, credential: DecryptedCredential
) -> DecryptedCredential:
    """The credential to use now: refreshed first when it expires within the margin."""
    if is_refreshable(credential) and expires_soon(credential, target.spec, utcnow()):
        return refresh(context, target)
    return credential


def refresh(
    context: WorkerContext,
    target: RefreshTarget,
    *,
    stale_access: str | None = None,
    force: bool = False,
    on_step: StepHook | None = None,
) -> DecryptedCredential:
    """Refresh the target's credential unless another worker just did; return it.

    Without options the refresh happens only if the token expires within the margin;
    ``stale_access`` (the token a provider refused with 401) refreshes unless the stored
    token has already changed; ``force`` always refreshes.
    """

    def wanted(current: DecryptedCredential) -> bool:
        if force:
            return True
        if stale_access is not None:
            return current.access_token is not None and current.access_token.reveal() == (
                stale_access
            )
        return expires_soon(current, target.spec, utcnow())

    with _local_lock(target.connection_id):
        return _refresh_locked(context, target, wanted, on_step or _no_step)


def _refresh_locked(
    context: WorkerContext,
    target: RefreshTarget,
    wanted: Callable[[DecryptedCredential], bool],
    step: StepHook,
) -> DecryptedCredential:
    provider = target.spec.name
    with context.sessions.begin() as session:
        repo = CredentialRepository(session, target.org_id, context.keyring)
        current = repo.load_for_refresh(target.connection_id)
        _require_connected(session, target)  # after the lock: a refusal just committed counts
        if not wanted(current):
            TOKEN_REFRESHES.labels(provider, "lost_race").inc()
            log.info(
                "token already refreshed by another worker provider=%s connection=%s version=%d",
                provider,
                target.connection_id,
                current.version,
            )
            return current
        _check_cooldown(context, target)
        step(RefreshStep.LOCKED)
        outcome = _exchange(context, session, target, current, step)
    if isinstance(outcome, str):
        _connection_broken(context, target, outcome, current.version)
        raise ConnectionUnusable(outcome)
    step(RefreshStep.COMMITTED)
    TOKEN_REFRESHES.labels(provider, "succeeded").inc()
    log.info(
        "token refreshed provider=%s connection=%s version=%d",
        provider,
        target.connection_id,
        outcome.version,
    )
    return outcome


def _exchange(
    context: WorkerContext,
    session: Session,
    target: RefreshTarget,
    current: DecryptedCredential,
    step: StepHook,
) -> DecryptedCredential | str:
    """Present the stored refresh token (unless an interrupted rotation forbids it) and
    store the outcome in the caller's locked transaction: the new credential, or why the
    connection now needs a reconnect (its status already set)."""
    intents = RefreshIntentRepository(session, target.org_id)
    refused = _interrupted(intents, target, current)
    if refused is None:
        try:
            tokens = _presented(context, target, current)
        except InvalidGrant as exc:
            refused = f"token refresh refused, reconnect needed: {exc}"
    if refused is not None:
        intents.settle(target.connection_id, current.version)
        ConnectionRepository(session, target.org_id).set_status(
            target.connection_id, "error", error_message=refused[:1000]
        )
        return refused
    step(RefreshStep.ANSWERED)
    intents.settle(target.connection_id, current.version, rotated=_rotated(tokens, current))
    return CredentialRepository(session, target.org_id, context.keyring).update_tokens(
        target.connection_id,
        expected_version=current.version,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=_expiry(tokens),
        scopes=_scopes(tokens, target.spec),
    )


def _interrupted(
    intents: RefreshIntentRepository, target: RefreshTarget, current: DecryptedCredential
) -> str | None:
    """Why the stored refresh token must not be presented (a request presenting it was
    interrupted and the provider rotates, or may), or None."""
    intent = intents.interrupted(target.connection_id, current.version)
    if intent is None or intent.rotates is False:  # a token that does not rotate stays valid
        return None
    TOKEN_REFRESHES.labels(target.spec.name, "interrupted").inc()
    return (
        f"a token refresh started at {intent.started_at.isoformat()} was interrupted before "
        "its answer was stored; the provider may have rotated the single-use refresh token, "
        "so it is not presented again: reconnect needed"
    )


def _presented(
    context: WorkerContext, target: RefreshTarget, current: DecryptedCredential
) -> TokenSet:
    """:func:`_grant`, with the intent committed first when a refresh token is presented,
    and unmarked again when the request fails here (its outcome is known: no answer, or
    an error; ``invalid_grant`` is unmarked with the status it sets)."""
    if current.auth_mode != "oauth2_code" or current.refresh_token is None:
        return _grant(context, target, current)
    with context.sessions.begin() as own:  # committed now, whatever happens to the caller's
        RefreshIntentRepository(own, target.org_id).begin(target.connection_id, current.version)
    try:
        return _grant(context, target, current)
    except InvalidGrant:
        raise
    except Exception:
        _unmark(context, target, current.version)
        raise


def _unmark(context: WorkerContext, target: RefreshTarget, version: int) -> None:
    try:
        with context.sessions.begin() as own:
            RefreshIntentRepository(own, target.org_id).settle(target.connection_id, version)
    except Exception:  # the token error is what the caller must see
        log.exception("could not unmark the refresh intent of %s", target.connection_id)


def _rotated(tokens: TokenSet, current: DecryptedCredential) -> bool | None:
    if current.auth_mode != "oauth2_code" or current.refresh_token is None:
        return None
    return tokens.refresh_token is not None and tokens.refresh_token != (
        current.refresh_token.reveal()
    )


def _grant(context: WorkerContext, target: RefreshTarget, current: DecryptedCredential) -> TokenSet:
    """One token-endpoint call; transient failures start the shared cooldown."""
    spec = target.spec
    app = app_credentials_from_settings(spec, context.provider_settings.get(spec.name, {}))
    client = TokenClient(
        spec, app, target.account, transport=context.transport, policy=context.outbound
    )
    try:
        if current.auth_mode == "oauth2_client_credentials":
            return client.client_credentials()
        if current.refresh_token is None:
            raise InvalidGrant(f"{spec.name}: no refresh token stored", provider=spec.name)
        return client.refresh(current.refresh_token.reveal())
    except InvalidGrant:
        TOKEN_REFRESHES.labels(spec.name, "invalid_grant").inc()
        raise
    except TransientError:
        TOKEN_REFRESHES.labels(spec.name, "failed").inc()
        context.redis.set(_cooldown_key(context, target), b"1", px=int(COOLDOWN_SECONDS * 1000))
        raise
    except AuthError as exc:  # our client is refused: cool down too, an operator must act
        TOKEN_REFRESHES.labels(spec.name, "failed").inc()
        context.redis.set(_cooldown_key(context, target), b"1", px=int(COOLDOWN_SECONDS * 1000))
        raise AuthRefused(
            f"{exc} (check SWITCHYARD_PROVIDERS__{spec.name.upper()}__CLIENT_ID/CLIENT_SECRET)"
        ) from None


def _require_connected(session: Session, target: RefreshTarget) -> None:
    row = ConnectionRepository(session, target.org_id).get(target.connection_id)
    if row.status != "connected":
        detail = f": {row.error_message}" if row.error_message else ""
        raise ConnectionUnusable(
            f"connection {row.name!r} to {row.provider} is {row.status}{detail}"
        )


def _check_cooldown(context: WorkerContext, target: RefreshTarget) -> None:
    """Defer (no attempt spent) while a recent token-endpoint failure cools down."""
    remaining_ms = int(context.redis.pttl(_cooldown_key(context, target)))
    if remaining_ms > 0:
        name = target.spec.name
        raise RateLimited(
            f"{name}: token endpoint failed moments ago; waiting before the next refresh",
            provider=name,
            retry_after=remaining_ms / 1000,
        )


def _cooldown_key(context: WorkerContext, target: RefreshTarget) -> str:
    return keys.refresh_cooldown(context.namespace, str(target.connection_id))


def _connection_broken(
    context: WorkerContext, target: RefreshTarget, reason: str, version: int
) -> None:
    """Tell the org (``integration.error``); the status is already committed."""
    log.warning(
        "connection broken provider=%s connection=%s: %s",
        target.spec.name,
        target.connection_id,
        reason,
    )
    if context.events is None:
        return
    data = {
        "provider": target.spec.name,
        "connection": target.connection_name,
        "connection_id": target.connection_id,
        "reason": reason,
    }
    try:
        context.events.publish(
            target.org_id,
            "integration.error",
            data,
            source="system",
            idempotency_key=f"integration.error:{target.connection_id}:{version}",
        )
    except Exception:  # the status is what matters; an event outage must not mask it
        log.exception("could not publish integration.error for %s", target.connection_id)


def _expiry(tokens: TokenSet) -> datetime | None:
    return None if tokens.expires_at is None else datetime.fromtimestamp(tokens.expires_at, UTC)


def _scopes(tokens: TokenSet, spec: ProviderSpec) -> list[str] | None:
    if not tokens.scope or not isinstance(spec.auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth):
        return None
    separator = spec.auth.scope_separator.strip() or None
    return [scope.strip() for scope in tokens.scope.split(separator) if scope.strip()]


def _no_step(step: RefreshStep) -> None:
    return None


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


@contextmanager
def _local_lock(connection_id: str) -> Iterator[None]:
    """Threads of one process refreshing the same connection take turns."""
    with _locks_guard:
        lock = _locks.setdefault(connection_id, threading.Lock())
    with lock:
        yield
