"""The OAuth authorization-code flow: start (authorize URL) and callback (code exchange).

``state`` is 32 random bytes, bound server-side to the org, provider, connection name,
redirect URI and PKCE verifier. The binding lives in Redis, encrypted with the key ring
(the verifier is a secret), for ``oauth_state_ttl_seconds``, and is consumed by the first
callback: a tampered, expired or replayed state is refused, a callback made with another
org's key is refused without consuming it, and a code is accepted once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from providers.auth.oauth import Pkce, TokenClient, TokenSet, app_credentials_from_settings
from providers.errors import InvalidAccountError, PermanentError, ProviderError, TransientError
from providers.outbound import OutboundPolicy
from providers.spec import OAuth2CodeAuth, ProviderSpec
from queueing import keys
from storage.errors import DecryptionError
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.destinations import check_account_hosts
from switchyard.services.connections.identity import prove_account
from switchyard.services.connections.records import NewCredential, save_connection, validated_name
from switchyard.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    ProviderFailed,
    Refused,
    field_error,
)

STATE_PREFIX = "oauth-state"
CODE_PREFIX = "oauth-code"


@dataclass(frozen=True)
class Started:
    """Where to send the user, and the state that will come back."""

    authorize_url: str
    state: str
    expires_in: int


def start_authorization(
    deps: ConnectionDeps,
    org_id: str,
    provider: str,
    *,
    name: str = "default",
    account: Mapping[str, str] | None = None,
) -> Started:
    """Begin connecting ``provider`` for ``org_id``; PKCE when the catalog says so."""
    spec = oauth_spec(deps, provider)
    account = validated_account(spec, account or {}, require_all=False, policy=deps.policy)
    redirect = deps.oauth.redirect_url
    pkce = Pkce.new() if _auth(spec).pkce else None
    state = secrets.token_urlsafe(32)
    client = _token_client(deps, spec, account)
    url = client.authorize_url(redirect, state, pkce)
    binding = {
        "org_id": org_id,
        "provider": spec.name,
        "name": validated_name(name),
        "account": dict(account),
        "redirect_uri": redirect,
        "verifier": pkce.verifier if pkce else None,
    }
    ttl = deps.oauth.state_ttl_seconds
    sealed = deps.keyring.encrypt(json.dumps(binding), associated_data=_bound_to(state))
    deps.redis.set(_key(deps, STATE_PREFIX, state), sealed, ex=ttl)
    return Started(authorize_url=url, state=state, expires_in=ttl)


def complete_authorization(
    deps: ConnectionDeps,
    state: str,
    code: str,
    *,
    caller_org: str | None,
    actor: str,
    account: Mapping[str, str] | None = None,
    callback: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Exchange the code and store the token pair; returns the connection's view.

    ``caller_org`` is the org of an org-scoped API key (None for an admin key or the
    browser redirect, where the state alone binds the org). ``callback`` holds the other
    query parameters of the provider's redirect (QuickBooks ``realmId``); the account is
    then learned from the provider (:mod:`switchyard.services.connections.identity`).
    """
    if not code or len(code) > 2048:
        raise field_error(Refused, "code", "is required (at most 2048 characters)")
    if not isinstance(callback or {}, Mapping) or not all(
        isinstance(v, str) for v in (callback or {}).values()
    ):
        raise field_error(
            InvalidInput, "callback", "must be an object of the redirect's query parameters"
        )
    binding = _take_state(deps, state, caller_org)
    spec = oauth_spec(deps, binding["provider"])
    merged = validated_account(
        spec,
        {**binding["account"], **(account or {})},
        require_all=False,
        policy=deps.policy,
    )
    _claim_code(deps, spec.name, code)
    verifier = binding.get("verifier")
    pkce = Pkce(verifier, "") if verifier else None
    client = _token_client(deps, spec, merged)
    try:
        tokens = client.exchange_code(code, binding["redirect_uri"], pkce)
    except TransientError as exc:
        raise field_error(
            ProviderFailed, "code", f"the provider is unavailable, try again: {exc}"
        ) from None
    except ProviderError as exc:
        raise field_error(Refused, "code", f"the provider refused the code: {exc}") from None
    credential = token_credential("oauth2_code", tokens, spec)
    proof = prove_account(
        deps,
        spec,
        merged,
        credential,
        token_fields=tokens.extra,
        callback={str(k): str(v) for k, v in (callback or {}).items()},
    )
    return save_connection(
        deps,
        binding["org_id"],
        spec.name,
        name=binding["name"],
        account=proof.account,
        credential=credential,
        actor=actor,
        proof=proof,
    )


def token_credential(mode: str, tokens: TokenSet, spec: ProviderSpec) -> NewCredential:
    """A token endpoint's answer as a credential to store."""
    expires = None if tokens.expires_at is None else datetime.fromtimestamp(tokens.expires_at, UTC)
    separator = getattr(spec.auth, "scope_separator", " ").strip() or None
    scopes = tuple(s for s in (tokens.scope or "").split(separator) if s)
    return NewCredential(
        auth_mode=mode,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=expires,
        scopes=scopes,
    )


def oauth_spec(deps: ConnectionDeps, provider: str) -> ProviderSpec:
    """The catalog entry of an OAuth authorization-code provider, or a 422 naming why not."""
    if provider not in deps.catalog:
        raise field_error(InvalidInput, "provider", f"unknown provider {provider!r}")
    spec = deps.catalog.get(provider)
    if not isinstance(spec.auth, OAuth2CodeAuth):
        raise field_error(
            InvalidInput,
            "provider",
            f"{spec.name} uses {spec.auth.mode} auth: connect it with POST /v1/connections",
        )
    return spec


def validated_account(
    spec: ProviderSpec, account: Mapping[str, Any], *, require_all: bool, policy: OutboundPolicy
) -> dict[str, str]:
    """Account identifiers checked against the catalog's patterns, and hosts they put into
    the entry's URLs against the outbound ``policy`` (422 naming the field)."""
    if not isinstance(account, Mapping):
        raise field_error(
            InvalidInput, "account", "must be an object of identifier names to values"
        )
    unknown = sorted(set(account) - spec.identifier_names())
    if unknown:
        known = sorted(spec.identifier_names()) or "none"
        raise field_error(
            InvalidInput, f"account.{unknown[0]}", f"not an identifier of {spec.name} ({known})"
        )
    if any(not isinstance(v, str) for v in account.values()):
        raise field_error(InvalidInput, "account", "identifier values must be strings")
    try:
        values = spec.validate_account(account, require_all=require_all)
    except InvalidAccountError as exc:
        raise field_error(InvalidInput, f"account.{exc.identifier}", str(exc)) from None
    check_account_hosts(policy, spec, values)
    return values


def _take_state(deps: ConnectionDeps, state: str, caller_org: str | None) -> dict[str, Any]:
    """Read, check and consume the binding of ``state``."""
    refused = field_error(Refused, "state", "unknown, expired or already used")
    if not state or len(state) > 200:
        raise refused
    key = _key(deps, STATE_PREFIX, state)
    sealed = deps.redis.get(key)
    if sealed is None:
        raise refused
    try:
        text = deps.keyring.decrypt(_text(sealed), associated_data=_bound_to(state))
    except (DecryptionError, ValueError):
        raise refused from None
    binding: dict[str, Any] = json.loads(text.reveal())
    if caller_org is not None and caller_org != binding["org_id"]:
        raise field_error(Forbidden, "state", "was issued to another organization")
    if deps.redis.getdel(key) is None:  # a concurrent callback consumed it first
        raise refused
    return binding


def _claim_code(deps: ConnectionDeps, provider: str, code: str) -> None:
    digest = hashlib.sha256(f"{provider}:{code}".encode()).hexdigest()
    ttl = deps.oauth.state_ttl_seconds
    if not deps.redis.set(_key(deps, CODE_PREFIX, digest), b"1", nx=True, ex=ttl):
        raise field_error(Refused, "code", "was already used")


def _token_client(
    deps: ConnectionDeps, spec: ProviderSpec, account: Mapping[str, str]
) -> TokenClient:
    settings = deps.provider_settings.get(spec.name, {})
    try:
        app = app_credentials_from_settings(spec, settings)
    except PermanentError as exc:
        raise field_error(Conflict, "provider", str(exc)) from None
    transport = deps.transport
    return TokenClient(spec, app, account, transport=transport, policy=deps.policy)


def _auth(spec: ProviderSpec) -> OAuth2CodeAuth:
    assert isinstance(spec.auth, OAuth2CodeAuth)
    return spec.auth


def _key(deps: ConnectionDeps, prefix: str, value: str) -> str:
    return keys.oauth(deps.oauth.namespace, prefix, value)


def _bound_to(state: str) -> str:
    return f"switchyard:oauth-state:{state}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
