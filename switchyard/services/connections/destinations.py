"""Hosts a tenant names at connect time, checked with the outbound policy before we store them.

Some catalog URLs take their host from the connection (WooCommerce's ``store_host``, the
``host`` of custom webhooks and n8n, Salesforce's ``instance_host`` in its token URL). Every
request to them goes through the policy anyway; checking here as well answers a bad host
at once — a 422 naming the field, with the reason — instead of storing a connection whose
every job would be refused. Only the checks that need no network run here: a name's DNS
answer today proves nothing about tomorrow's, so names are resolved and checked at each
request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from providers.outbound import OutboundPolicy, OutboundRefused
from providers.spec import ProviderSpec
from providers.templates import placeholders, render
from switchyard.services.errors import InvalidInput, field_error

URL_FIELDS = ("token_url", "authorize_url", "revoke_url")


def check_account_hosts(
    policy: OutboundPolicy, spec: ProviderSpec, account: Mapping[str, str]
) -> None:
    """Refuse identifiers that put a host the policy refuses into one of the entry's URLs."""
    values = dict(account)
    if spec.api_version is not None:
        values["api_version"] = spec.api_version
    for template in _url_templates(spec):
        in_host = sorted(placeholders(_origin(template)) & set(account))
        if not in_host or not placeholders(template) <= set(values):
            continue
        try:
            policy.check_url(render(template, values))
        except OutboundRefused as refusal:
            raise field_error(InvalidInput, f"account.{in_host[0]}", refusal.detail) from None


def _url_templates(spec: ProviderSpec) -> Iterator[str]:
    yield spec.base_url
    for field in URL_FIELDS:
        value = getattr(spec.auth, field, None)
        if isinstance(value, str):
            yield value


def _origin(template: str) -> str:
    """The scheme and authority part of a URL template (what decides where it connects)."""
    scheme, sep, rest = template.partition("://")
    if not sep:
        return ""
    for stop in "/?#":
        rest = rest.split(stop, 1)[0]
    return f"{scheme}://{rest}"
