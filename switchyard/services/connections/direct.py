"""Connections without a browser: API key, basic, admin credential, client credentials, none.

* ``api_key`` / ``basic``: the org hands us its key (or user and password); stored encrypted.
* ``admin_credential`` (seed 003): the operator's keys are in settings; the org supplies
  only its account identifier (shop name, subdomain, page id), checked against the
  catalog's pattern. Nothing secret is stored per connection.
* ``oauth2_client_credentials``: we fetch an app token now and store it with its expiry;
  workers renew it before it expires like any other token (:mod:`workers.token_refresh`).
* ``none``: the connection only routes work (webhook targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.auth.credentials import admin_secrets_from_settings
from providers.auth.oauth import TokenClient, app_credentials_from_settings
from providers.errors import PermanentError, ProviderError, TransientError
from providers.spec import BasicAuth, ProviderSpec
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.identity import prove_account
from switchyard.services.connections.oauth_flow import token_credential, validated_account
from switchyard.services.connections.records import NewCredential, save_connection, validated_name
from switchyard.services.errors import Conflict, InvalidInput, ProviderFailed, field_error

MAX_SECRET_CHARS = 4096
SECRET_FIELDS = ("api_key", "username", "password")
#: Which secret fields each auth mode takes from the caller.
TAKES: dict[str, frozenset[str]] = {
    "api_key": frozenset({"api_key"}),
    "basic": frozenset({"username", "password"}),
}


def connect_direct(
    deps: ConnectionDeps,
    org_id: str,
    provider: str,
    *,
    actor: str,
    name: str = "default",
    account: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    operator: bool = False,
) -> dict[str, Any]:
    """Connect ``provider`` for the org with what its auth mode needs; returns the view.

    Typed identifiers are confirmed with the provider where its catalog entry says how
    (Stripe ``GET /account``, Twilio's account resource); ``operator`` (an admin key or the
    CLI) attests the typed values itself.
    """
    spec = _spec(deps, provider)
    given = {k: v for k, v in (secrets or {}).items() if v is not None}
    extra = sorted(set(given) - TAKES.get(spec.auth.mode, frozenset()))
    if extra:
        raise field_error(
            InvalidInput, extra[0], f"not used by {spec.name} ({spec.auth.mode} auth)"
        )
    checked = validated_account(spec, account or {}, require_all=True, policy=deps.policy)
    credential = _credential(deps, spec, checked, given)
    proof = prove_account(deps, spec, checked, credential, operator=operator)
    return save_connection(
        deps,
        org_id,
        spec.name,
        name=validated_name(name),
        account=proof.account,
        credential=credential,
        actor=actor,
        proof=proof,
    )


def _spec(deps: ConnectionDeps, provider: Any) -> ProviderSpec:
    if not isinstance(provider, str) or provider not in deps.catalog:
        raise field_error(InvalidInput, "provider", f"unknown provider {provider!r}")
    spec = deps.catalog.get(provider)
    if spec.auth.mode == "oauth2_code":
        raise field_error(
            InvalidInput,
            "provider",
            f"{spec.name} uses the OAuth authorization-code flow: "
            "start it with POST /v1/connections/oauth/start",
        )
    return spec


def _credential(
    deps: ConnectionDeps, spec: ProviderSpec, account: Mapping[str, str], given: Mapping[str, Any]
) -> NewCredential | None:
    mode = spec.auth.mode
    if mode == "api_key":
        return NewCredential("api_key", api_key=_secret(given, "api_key"))
    if mode == "basic":
        assert isinstance(spec.auth, BasicAuth)
        username = spec.auth.username or _secret(given, "username")
        return NewCredential(
            "basic", secret=_secret(given, "password"), extra={"username": username}
        )
    settings = deps.provider_settings.get(spec.name, {})
    try:
        if mode == "admin_credential":
            admin_secrets_from_settings(spec, settings)  # the operator must have set them
            return None
        if mode == "oauth2_client_credentials":
            app = app_credentials_from_settings(spec, settings)
    except PermanentError as exc:
        raise field_error(Conflict, "provider", f"not configured by the operator: {exc}") from None
    if mode == "oauth2_client_credentials":
        return _client_credentials(deps, spec, account, app)
    return None


def _client_credentials(
    deps: ConnectionDeps, spec: ProviderSpec, account: Mapping[str, str], app: Any
) -> NewCredential:
    transport = deps.transport
    client = TokenClient(spec, app, account, transport=transport, policy=deps.policy)
    try:
        tokens = client.client_credentials()
    except TransientError as exc:
        raise field_error(
            ProviderFailed, "provider", f"token endpoint unavailable, try again: {exc}"
        ) from None
    except ProviderError as exc:
        raise field_error(Conflict, "provider", f"token endpoint refused our app: {exc}") from None
    return token_credential("oauth2_client_credentials", tokens, spec)


def _secret(given: Mapping[str, Any], field: str) -> str:
    value = given.get(field)
    if not isinstance(value, str) or not value.strip():
        raise field_error(InvalidInput, field, "is required")
    if len(value) > MAX_SECRET_CHARS or not value.isprintable():
        raise field_error(
            InvalidInput, field, f"must be printable, at most {MAX_SECRET_CHARS} characters"
        )
    return value
