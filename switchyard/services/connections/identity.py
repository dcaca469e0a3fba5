"""Which account a new connection is for, as the provider says (issue #20 item 4, #17 item 2).

Every connect flow ends here before it saves: identifiers arriving with the grant (token
response, callback query) and those an API call with the new credential returns are
merged over what the org typed — the provider's value wins — and checked against the
catalog's patterns. The result says which identifiers are proven and which required ones
are still missing: a connection is ``connected`` only with none missing.

The *routing* identifier (the catalog entry's first) routes app-wide inbound webhooks, so
only a proven value of it is recorded for routing; an org typing another org's account id
gets a connection that works for its own calls but receives no one else's events. An
operator (admin key, CLI) attests what it types: ``operator=True`` proves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.account_identity import LearnedAccount, learn_from_api, learn_from_grant, needs_api
from providers.auth import ApiKey, BasicCredential, BearerToken, Credential
from providers.client import ProviderClient
from providers.errors import InvalidAccountError, ProviderError, TransientError
from providers.spec import ProviderSpec
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.records import AccountProof, NewCredential
from switchyard.services.errors import Conflict, InvalidInput, ProviderFailed, field_error


def prove_account(
    deps: ConnectionDeps,
    spec: ProviderSpec,
    typed: Mapping[str, str],
    credential: NewCredential | None,
    *,
    token_fields: Mapping[str, Any] | None = None,
    callback: Mapping[str, str] | None = None,
    operator: bool = False,
) -> AccountProof:
    """Learn, merge and check the connection's identifiers (refusals: the service errors)."""
    learned = learn_from_grant(spec, token_fields or {}, callback or {})
    client_credential = _client_credential(credential)
    if client_credential is not None and needs_api(spec, learned, typed):
        _ask_provider(deps, spec, typed, learned, client_credential)
    account = {**typed, **learned.values}
    try:
        account = spec.validate_account(account, require_all=False)
    except InvalidAccountError as exc:
        raise field_error(
            InvalidInput, f"account.{exc.identifier}", f"{spec.name} returned {exc}"
        ) from None
    proofs = dict(learned.proofs)
    if operator:
        proofs = {name: proofs.get(name, "operator") for name in account}
    return _summary(deps, spec, account, proofs)


def _summary(
    deps: ConnectionDeps, spec: ProviderSpec, account: dict[str, str], proofs: dict[str, str]
) -> AccountProof:
    missing = tuple(
        i.name for i in spec.account_identifiers if i.required and i.name not in account
    )
    routing = spec.account_identifiers[0].name if spec.account_identifiers else None
    proven = routing is not None and routing in proofs and routing in account
    shared = spec.name in deps.oauth.shared_account_providers
    return AccountProof(
        routing=routing,
        account=account,
        proofs=proofs,
        routing_value=account[routing] if proven and routing else None,
        routing_proof=proofs[routing] if proven and routing else None,
        missing=missing,
        shared=shared,
    )


def _ask_provider(
    deps: ConnectionDeps,
    spec: ProviderSpec,
    typed: Mapping[str, str],
    learned: LearnedAccount,
    credential: Credential,
) -> None:
    account = {**typed, **learned.values}
    try:
        known = spec.validate_account(account, require_all=False)
        transport = deps.transport
        client = ProviderClient(spec, known, credential, transport=transport)
    except InvalidAccountError:
        return  # the API cannot be addressed yet: the missing identifier is reported instead
    try:
        learn_from_api(spec, client, learned, typed)
    except InvalidAccountError as exc:
        raise field_error(InvalidInput, f"account.{exc.identifier}", str(exc)) from None
    except TransientError as exc:
        raise field_error(
            ProviderFailed,
            "account",
            f"could not confirm the account with {spec.name}, try again: {exc}",
        ) from None
    except ProviderError as exc:
        raise field_error(
            Conflict,
            "account",
            f"{spec.name} did not confirm the account for this credential: {exc}",
        ) from None


def _client_credential(credential: NewCredential | None) -> Credential | None:
    """The new credential as the provider client takes it (None: nothing to call with)."""
    if credential is None:
        return None
    if credential.access_token:
        return BearerToken(credential.access_token)
    if credential.api_key:
        return ApiKey(credential.api_key)
    if credential.auth_mode == "basic" and credential.secret:
        return BasicCredential(str(credential.extra.get("username", "")), credential.secret)
    return None
