"""Auth modes of a catalog entry, discriminated on ``mode``.

The modes follow the design: OAuth2 authorization code (rotating or not), OAuth2 client
credentials, API key, HTTP basic, and seed 003's *admin credential* (the operator's own
secrets held in settings; an organization supplies only an account identifier). Every mode
says where the credential goes on the request, so one set of auth strategies serves all
providers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.templates import placeholders

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"


TokenAuthMethod = Literal["client_secret_post", "client_secret_basic"]


class StrictModel(BaseModel):
    """Base of every catalog model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Placement(StrictModel):
    """Where a single secret (token or key) goes: ``<name>: <prefix><secret>``.

    ``location: path`` puts ``<prefix><secret>`` as the first path segment (Telegram's
    ``/bot<token>/``); ``name`` is then unused.
    """

    location: Literal["header", "query", "path"] = "header"
    name: str = Field(default="Authorization", min_length=1)
    prefix: str = "Bearer "

    @model_validator(mode="after")
    def _query_has_no_prefix(self) -> Placement:
        if self.location == "query" and self.prefix:
            raise ValueError("a query parameter takes the bare secret: set prefix to ''")
        if self.location == "path" and not self.prefix:
            raise ValueError("a path placement needs a prefix (e.g. 'bot' for /bot<token>/)")
        return self


class _OAuth2Common(StrictModel):
    token_url: str = Field(min_length=1)
    revoke_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    scope_separator: str = " "
    token_lifetime_seconds: int | None = Field(
        default=None, ge=1, description="Access token lifetime; None when tokens do not expire."
    )
    refresh_margin_seconds: int = Field(default=300, ge=0)
    refresh_margin_fraction: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Cap of the margin, as a fraction of the lifetime the provider returned.",
    )
    token_auth_method: TokenAuthMethod = "client_secret_post"  # noqa: S105
    placement: Placement = Field(default_factory=Placement)

    def refresh_margin(self, lifetime_seconds: float | None) -> float:
        """Seconds before expiry to refresh: ``refresh_margin_seconds``, capped at
        ``refresh_margin_fraction`` of the token's lifetime when known, so a token living
        less than the margin is refreshed once per lifetime, not before every use."""
        if lifetime_seconds is None or lifetime_seconds <= 0:
            return float(self.refresh_margin_seconds)
        return min(
            float(self.refresh_margin_seconds), self.refresh_margin_fraction * lifetime_seconds
        )


class OAuth2CodeAuth(_OAuth2Common):
    """OAuth2 authorization code grant; refresh tokens may rotate on every use."""

    mode: Literal["oauth2_code"]
    authorize_url: str = Field(min_length=1)
    pkce: bool = False
    refresh_token_rotates: bool = False
    refresh_token_lifetime_seconds: int | None = Field(default=None, ge=1)
    authorize_params: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _margin_below_lifetime(self) -> OAuth2CodeAuth:
        life = self.token_lifetime_seconds
        if life is not None and self.refresh_margin_seconds >= life:
            raise ValueError("refresh_margin_seconds must be shorter than token_lifetime_seconds")
        return self


class OAuth2ClientCredentialsAuth(_OAuth2Common):
    """OAuth2 client credentials grant: the app's own token, no user consent."""

    mode: Literal["oauth2_client_credentials"]


class ApiKeyAuth(StrictModel):
    """A static key supplied per connection."""

    mode: Literal["api_key"]
    placement: Placement = Field(default_factory=Placement)


class BasicAuth(StrictModel):
    """HTTP basic auth; ``username`` fixes the user part where the provider does (Mailgun)."""

    mode: Literal["basic"]
    username: str | None = None
    username_label: str = "username"
    password_label: str = "password"  # noqa: S105


class AdminSecret(StrictModel):
    """One operator secret; read from ``SWITCHYARD_PROVIDERS__<PROVIDER>__<NAME>``."""

    name: str = Field(pattern=SLUG_PATTERN)
    description: str = ""
    required: bool = True


class HeaderInjection(StrictModel):
    """``<name>: <value>`` where ``value`` is a template over secret names."""

    kind: Literal["header"]
    name: str = Field(min_length=1)
    value: str = Field(min_length=1)


class QueryInjection(StrictModel):
    """``?<name>=<value>`` where ``value`` is a template over secret names."""

    kind: Literal["query"]
    name: str = Field(min_length=1)
    value: str = Field(min_length=1)


class BasicInjection(StrictModel):
    """HTTP basic auth built from secret-name templates."""

    kind: Literal["basic"]
    username: str = Field(min_length=1)
    password: str = ""


Injection = Annotated[
    HeaderInjection | QueryInjection | BasicInjection, Field(discriminator="kind")
]


class AdminCredentialAuth(StrictModel):
    """Seed 003's centralized model: operator secrets in settings, injected per request."""

    mode: Literal["admin_credential"]
    secrets: list[AdminSecret] = Field(min_length=1)
    inject: Injection

    def template_names(self) -> set[str]:
        """Placeholders the injection uses."""
        if isinstance(self.inject, BasicInjection):
            return placeholders(self.inject.username) | placeholders(self.inject.password)
        return placeholders(self.inject.value)

    @model_validator(mode="after")
    def _injection_uses_declared_secrets(self) -> AdminCredentialAuth:
        declared = {secret.name for secret in self.secrets}
        unknown = self.template_names() - declared
        if unknown:
            raise ValueError(
                f"inject uses undeclared secret(s) {sorted(unknown)}; declared: {sorted(declared)}"
            )
        return self


class NoAuth(StrictModel):
    """No credential on the request: webhook targets whose secret is the URL itself."""

    mode: Literal["none"]


AuthSpec = Annotated[
    OAuth2CodeAuth
    | OAuth2ClientCredentialsAuth
    | ApiKeyAuth
    | BasicAuth
    | AdminCredentialAuth
    | NoAuth,
    Field(discriminator="mode"),
]
AuthMode = Literal[
    "oauth2_code", "oauth2_client_credentials", "api_key", "basic", "admin_credential", "none"
]

#: The modes whose credential is a token that expires and is refreshed (or re-issued).
REFRESHABLE_AUTH_MODES: frozenset[str] = frozenset({"oauth2_code", "oauth2_client_credentials"})
