"""``/v1/connections``: connecting providers, and what a connection looks like (no secrets)."""

from __future__ import annotations

from pydantic import Field

from switchyard.api.schemas.common import Answer, Item, OrgId, RequestBody

_NAME = Field(default="default", min_length=1, max_length=64, examples=["default"])
_PROVIDER = Field(min_length=1, max_length=64, examples=["hubspot"])
_ACCOUNT = Field(
    default=None,
    description="Account identifiers the provider's auth mode asks for (shop, subdomain...).",
    examples=[{"shop": "acme.myshopify.com"}],
)
_SECRET = Field(default=None, json_schema_extra={"writeOnly": True})


class OAuthStartRequest(RequestBody):
    org_id: OrgId = None
    provider: str = _PROVIDER
    name: str = _NAME
    account: dict[str, str] | None = _ACCOUNT


class OAuthStarted(Answer):
    """Send the user to ``authorize_url``; ``state`` comes back with the code."""

    authorize_url: str
    state: str
    expires_in: int


class OAuthCallbackRequest(RequestBody):
    """What the provider sent back to the upstream app's redirect page."""

    state: str | None = Field(default=None, max_length=512)
    code: str | None = Field(default=None, max_length=4096)
    account: dict[str, str] | None = _ACCOUNT
    callback: dict[str, str] | None = Field(
        default=None,
        description="The other query parameters of the provider's redirect, as received "
        "(QuickBooks realmId, Clover merchant_id...): account identity the provider returned.",
        examples=[{"realmId": "9130350000000000"}],
    )


class ConnectRequest(RequestBody):
    """A connection without a browser: API key, basic credentials, an admin credential's
    account identifier, or the app's client credentials."""

    org_id: OrgId = None
    provider: str = _PROVIDER
    name: str = _NAME
    account: dict[str, str] | None = _ACCOUNT
    api_key: str | None = _SECRET
    username: str | None = _SECRET
    password: str | None = _SECRET


class Connection(Item):
    """A connection as callers see it: never a secret."""

    provider: str
    name: str
    status: str


class CheckResult(Answer):
    connection_id: str
    provider: str
    ok: bool
    status: int | None
    detail: str
