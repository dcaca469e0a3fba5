"""Learning a connection's account identifiers from the provider (see :mod:`.spec_identity`).

:func:`learn_from_grant` reads what arrived with the grant (token response, callback query)
without a request; :func:`learn_from_api` asks the provider with the connection's own
credential, and confirms callback values by a successful ``check`` request on that account.
Each learned value says how it was learned; only those are *proven*. Values the org typed
stay in the account but prove nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from providers.client import ProviderClient
from providers.errors import MalformedResponse
from providers.json_path import dig
from providers.spec import ProviderSpec
from providers.spec_identity import IdentitySource, ValuePart


@dataclass
class LearnedAccount:
    """Identifier values and, for the proven ones, how the provider gave them."""

    values: dict[str, str] = field(default_factory=dict)
    proofs: dict[str, str] = field(default_factory=dict)

    def learn(self, name: str, value: str, how: str | None) -> None:
        self.values[name] = value
        if how is None:
            self.proofs.pop(name, None)
        else:
            self.proofs[name] = how


def learn_from_grant(
    spec: ProviderSpec, token_fields: Mapping[str, Any], callback: Mapping[str, str]
) -> LearnedAccount:
    """Values in the token response (proven) and the callback query (to be confirmed)."""
    learned = LearnedAccount()
    for ident in spec.account_identifiers:
        source = ident.source
        if source is None or source.kind == "api":
            continue
        raw = dig(token_fields, source.field) if source.kind == "token_response" else None
        if source.kind == "callback":
            raw = callback.get(source.field)
        value = reduce(raw, source.part)
        if value is not None:
            how = "token_response" if source.kind == "token_response" else None
            learned.learn(ident.name, value, how)
    return learned


def learn_from_api(
    spec: ProviderSpec, client: ProviderClient, learned: LearnedAccount, typed: Mapping[str, str]
) -> None:
    """Ask the provider for ``api``-sourced identifiers; confirm ``callback`` ones.

    An ``api`` source fills a required identifier, or confirms an optional one the org
    typed (Stripe's connected account: asked with ``Stripe-Account``, answered only if our
    key may act on it). Errors propagate as the client raised them.
    """
    account = {**typed, **learned.values}
    for ident in spec.account_identifiers:
        source = ident.source
        if source is None or source.kind != "api":
            continue
        if not ident.required and ident.name not in account:
            continue
        value = _ask(client, source)
        learned.learn(ident.name, value, "api")
    pending = [
        i.name
        for i in spec.account_identifiers
        if i.source is not None and i.source.kind == "callback" and i.name in learned.values
    ]
    if pending and spec.check is not None:
        client.request(spec.check.method, spec.check.path, params=spec.check.params or None)
        for name in pending:
            learned.proofs[name] = "callback"


def needs_api(spec: ProviderSpec, learned: LearnedAccount, typed: Mapping[str, str]) -> bool:
    """Whether a request with the new credential is due: an ``api`` identifier to fetch or
    confirm, or a callback value to confirm."""
    for ident in spec.account_identifiers:
        kind = ident.source.kind if ident.source is not None else None
        if kind == "api" and (ident.required or ident.name in typed):
            return True
        if kind == "callback" and ident.name in learned.values:
            return True
    return False


def _ask(client: ProviderClient, source: IdentitySource) -> str:
    assert source.path is not None
    body = client.get(source.path).json()
    value = reduce(dig(body, source.field), source.part)
    if value is None:
        raise MalformedResponse(
            f"{client.spec.name}: no account identifier at {source.field!r} of {source.path}",
            provider=client.spec.name,
        )
    return value


def reduce(raw: Any, part: ValuePart) -> str | None:
    """The part of a returned value the identifier holds; None when absent or unusable."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, dict | list):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if part == "host":
        return urlsplit(text).hostname or None
    if part == "subdomain":
        host = urlsplit(text).hostname or ""
        return host.split(".")[0] or None
    if part == "last_segment":
        return text.rstrip("/").rsplit("/", 1)[-1] or None
    return text
