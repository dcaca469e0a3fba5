"""Credential values and the strategies that put them on a request.

Callers (the workers) hold credentials in storage and pass a plain credential object to
:class:`providers.client.ProviderClient`; :func:`auth_for` picks the strategy the catalog
entry's auth mode calls for. Strategies are ``httpx.Auth`` flows, so token refresh can later
hook into the same flow.
"""

from providers.auth.credentials import (
    AdminSecrets,
    ApiKey,
    BasicCredential,
    BearerToken,
    Credential,
    admin_secrets_from_settings,
)
from providers.auth.oauth import (
    AppCredentials,
    Pkce,
    TokenClient,
    TokenSet,
    app_credentials_from_settings,
)
from providers.auth.strategies import InjectionAuth, PlacementAuth, auth_for

__all__ = [
    "AdminSecrets",
    "ApiKey",
    "AppCredentials",
    "BasicCredential",
    "BearerToken",
    "Credential",
    "InjectionAuth",
    "Pkce",
    "PlacementAuth",
    "TokenClient",
    "TokenSet",
    "admin_secrets_from_settings",
    "app_credentials_from_settings",
    "auth_for",
]
