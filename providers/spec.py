"""The contract of one catalog entry: what Switchyard knows about a provider, as data.

An entry is validated when the catalog loads (``extra="forbid"`` everywhere, so a typo is an
error, not a silently ignored key), and cross-checked: every placeholder in a URL, a
rate-limit key or an injection template must be declared by the entry. That is what lets the
rest of the system template URLs from an organization's account identifier without ever
building a URL the catalog author did not intend.

Auth modes live in :mod:`providers.spec_auth`, pagination styles in
:mod:`providers.spec_pagination`; both are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from providers.errors import InvalidAccountError
from providers.spec_auth import (
    SLUG_PATTERN,
    AdminCredentialAuth,
    AdminSecret,
    ApiKeyAuth,
    AuthMode,
    AuthSpec,
    BasicAuth,
    BasicInjection,
    HeaderInjection,
    NoAuth,
    OAuth2ClientCredentialsAuth,
    OAuth2CodeAuth,
    Placement,
    QueryInjection,
    StrictModel,
)
from providers.spec_identity import IdentitySource
from providers.spec_pagination import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PagePagination,
    PageTokenPagination,
    PaginationSpec,
)
from providers.templates import TemplateSyntaxError, placeholders, render

__all__ = [
    "SLUG_PATTERN",
    "AccountIdentifier",
    "AdminCredentialAuth",
    "AdminSecret",
    "ApiKeyAuth",
    "AuthMode",
    "AuthSpec",
    "BasicAuth",
    "BasicInjection",
    "Category",
    "CheckRequest",
    "CursorPagination",
    "FeedbackParserName",
    "HeaderInjection",
    "IdentitySource",
    "LinkHeaderPagination",
    "NextUrlPagination",
    "NoAuth",
    "NoPagination",
    "OAuth2ClientCredentialsAuth",
    "OAuth2CodeAuth",
    "OffsetPagination",
    "PagePagination",
    "PageTokenPagination",
    "PaginationSpec",
    "Placement",
    "ProviderSpec",
    "QueryInjection",
    "RateLimitPolicy",
    "RetryOverride",
]

Category = Literal[
    "accounting",
    "ai",
    "analytics",
    "automation",
    "calendar",
    "crm",
    "ecommerce",
    "email_marketing",
    "files",
    "forms",
    "messaging",
    "payments",
    "pos",
    "productivity",
    "restaurant",
    "scheduling",
    "social",
    "spreadsheets",
    "support",
    "field_service",
    "voice",
    "webhooks",
]

FeedbackParserName = Literal[
    "retry_after",
    "x_ratelimit",
    "ietf_ratelimit",
    "shopify_call_limit",
    "sforce_limit_info",
    "body_retry_after",
    "hubspot",
    "meta_usage",
    "openai",
    "bigcommerce",
    "lightspeed_bucket",
]
"""Names of the rate-limit feedback parsers in :mod:`providers.ratelimit_feedback`."""

#: Placeholders a rate-limit key may use besides account identifiers: the connection id
#: (per-token limits) and the app (limits counted on our own client id).
KEY_EXTRA_PLACEHOLDERS = frozenset({"connection", "app"})
#: Characters an account identifier value may never contain, whatever its pattern says:
#: they would change the host or path of a templated URL.
_URL_BREAKING = re.compile(r"[/?#@\\\s]")
#: Settings keys under ``providers.<name>`` that hold secrets rather than catalog overrides.
APP_SECRET_KEYS = frozenset(
    {"client_id", "client_secret", "webhook_secret", "webhook_verify_token"}
)


class AccountIdentifier(StrictModel):
    """What an organization supplies to point a connection at its account (seed 003)."""

    name: str = Field(pattern=SLUG_PATTERN)
    pattern: str = Field(min_length=1, description="Regex the whole value must match.")
    example: str = Field(min_length=1)
    description: str = ""
    required: bool = True
    source: IdentitySource | None = Field(
        default=None, description="Where the provider returns it (None: typed by the org)."
    )

    @model_validator(mode="after")
    def _example_matches(self) -> AccountIdentifier:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regex: {exc}") from None
        if not compiled.fullmatch(self.example):
            raise ValueError(f"example {self.example!r} does not match pattern {self.pattern!r}")
        return self


class RateLimitPolicy(StrictModel):
    """How many requests per period, counted on which key, and where feedback comes from."""

    limit: int = Field(ge=1)
    period_seconds: float = Field(gt=0)
    burst: int | None = Field(default=None, ge=1)
    key: str = Field(min_length=1, description="Template, e.g. 'hubspot:{portal_id}'.")
    daily_quota: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    feedback: list[FeedbackParserName] = Field(default_factory=list)
    notes: str = ""


class RetryOverride(StrictModel):
    """A provider's own retry needs, on top of the deployment's per-kind policy (a provider
    whose 5xx outages last minutes wants fewer, longer-spaced attempts)."""

    max_attempts: int | None = Field(default=None, ge=1, le=100)
    min_backoff_ms: int | None = Field(default=None, ge=1)
    max_backoff_ms: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> RetryOverride:
        low, high = self.min_backoff_ms, self.max_backoff_ms
        if low is not None and high is not None and low > high:
            raise ValueError("min_backoff_ms must not exceed max_backoff_ms")
        return self


class CheckRequest(StrictModel):
    """A cheap request proving a connection works (credentials valid, account reachable)."""

    method: Literal["GET", "POST", "HEAD"] = "GET"
    path: str = Field(description="Appended to base_url ('' is base_url itself); templated.")
    params: dict[str, str] = Field(default_factory=dict)
    expect_status: list[int] = Field(default_factory=lambda: [200])


class ProviderSpec(StrictModel):
    """One provider, as described by its public documentation."""

    name: str = Field(pattern=SLUG_PATTERN, max_length=40)
    display_name: str = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    docs_url: str = Field(pattern=r"^https://")
    reference_docs: list[Annotated[str, Field(pattern=r"^https://")]] = Field(
        default_factory=list,
        description="Reference pages the actions and syncs follow, where no package ships the "
        "provider's machine-readable spec; tests/contracts checks calls against their examples.",
    )
    aliases: list[str] = Field(default_factory=list)
    auth: AuthSpec
    account_identifiers: list[AccountIdentifier] = Field(default_factory=list)
    base_url: str = Field(min_length=1)
    api_version: str | None = None
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Sent on every call; templates over identifiers and api_version. A header "
        "whose optional identifier is absent is left out (Stripe-Account).",
    )
    rate_limit: RateLimitPolicy
    retry: RetryOverride | None = None
    pagination: PaginationSpec
    webhook_scheme: str | None = Field(default=None, pattern=SLUG_PATTERN)
    check: CheckRequest | None = None
    hooks: str | None = Field(default=None, pattern=SLUG_PATTERN)
    unconfirmed: list[str] = Field(default_factory=list)
    notes: str = ""

    @field_validator("aliases")
    @classmethod
    def _alias_shape(cls, value: list[str]) -> list[str]:
        for alias in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", alias):
                raise ValueError(f"alias {alias!r} must be lower-case letters, digits, _ . -")
        return value

    @model_validator(mode="after")
    def _cross_check(self) -> ProviderSpec:
        problems = list(self._template_problems()) + list(self._unconfirmed_problems())
        names = [ident.name for ident in self.account_identifiers]
        if len(names) != len(set(names)):
            problems.append("account_identifiers: duplicate names")
        if self.name in self.aliases:
            problems.append("aliases: must not repeat the name")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _template_problems(self) -> list[str]:
        url_names = self.identifier_names() | {"api_version"}
        templates: list[tuple[str, str, set[str]]] = [
            ("base_url", self.base_url, url_names),
            (
                "rate_limit.key",
                self.rate_limit.key,
                self.identifier_names() | KEY_EXTRA_PLACEHOLDERS,
            ),
        ]
        for field in ("token_url", "authorize_url", "revoke_url"):
            value = getattr(self.auth, field, None)
            if isinstance(value, str):
                templates.append((f"auth.{field}", value, url_names))
        if self.check is not None:
            templates.append(("check.path", self.check.path, url_names))
        for header, value in self.headers.items():
            templates.append((f"headers.{header}", value, url_names))
        problems: list[str] = []
        for path, template, allowed in templates:
            try:
                used = placeholders(template)
            except TemplateSyntaxError as exc:
                problems.append(f"{path}: {exc}")
                continue
            unknown = used - allowed
            if unknown:
                problems.append(
                    f"{path}: placeholder(s) {sorted(unknown)} not declared "
                    f"(allowed: {sorted(allowed)})"
                )
            if "api_version" in used and self.api_version is None:
                problems.append(f"{path}: uses {{api_version}} but api_version is not set")
        return problems

    def _unconfirmed_problems(self) -> list[str]:
        dumped = self.model_dump()
        problems = []
        for path in self.unconfirmed:
            node: Any = dumped
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    problems.append(f"unconfirmed: {path!r} is not a field of this entry")
                    break
                node = node[part]
        return problems

    # -- helpers used by the client, the workers and the sandbox -----------------------------

    def identifier_names(self) -> set[str]:
        """Names of the account identifiers this entry declares."""
        return {ident.name for ident in self.account_identifiers}

    def secret_names(self) -> set[str]:
        """Settings keys under ``providers.<name>`` that hold secrets, not overrides."""
        names = set(APP_SECRET_KEYS)
        if isinstance(self.auth, AdminCredentialAuth):
            names |= {secret.name for secret in self.auth.secrets}
        return names

    def validate_account(
        self, account: Mapping[str, str], *, require_all: bool = True
    ) -> dict[str, str]:
        """Check an organization's identifiers; raises :class:`InvalidAccountError`.

        ``require_all=False`` checks only what is given: before the OAuth dance the account
        is not known yet (HubSpot's portal id comes with the token), but a token URL that
        uses an identifier (Salesforce's host) still gets a validated value.
        """
        values: dict[str, str] = {}
        for ident in self.account_identifiers:
            value = account.get(ident.name)
            if value is None and (not ident.required or not require_all):
                continue
            if value is None:
                raise InvalidAccountError(self.name, ident.name, "is required")
            if _URL_BREAKING.search(value) or not re.fullmatch(ident.pattern, value):
                raise InvalidAccountError(
                    self.name, ident.name, f"does not match {ident.pattern} (e.g. {ident.example})"
                )
            values[ident.name] = value
        return values

    def template_values(
        self, account: Mapping[str, str], *, require_all: bool = True
    ) -> dict[str, str]:
        """Validated identifiers plus ``api_version``: what URL templates may use."""
        values = self.validate_account(account, require_all=require_all)
        if self.api_version is not None:
            values["api_version"] = self.api_version
        return values

    def base_url_for(self, account: Mapping[str, str]) -> str:
        """The base URL for one account, identifiers validated first."""
        return render(self.base_url, self.template_values(account)).rstrip("/")

    def headers_for(self, account: Mapping[str, str]) -> dict[str, str]:
        """Static headers for one account; those needing an absent optional identifier omitted."""
        values = self.template_values(account)
        return {
            header: render(value, values)
            for header, value in self.headers.items()
            if placeholders(value) <= set(values)
        }

    def rate_limit_with(self, override: Mapping[str, Any] | None) -> RateLimitPolicy:
        """The policy with a connection's stored override merged in, validated like the file.

        Customers on higher API tiers get a bigger ``limit``; a key override must still use
        only this entry's placeholders.
        """
        if not override:
            return self.rate_limit
        policy = RateLimitPolicy.model_validate({**self.rate_limit.model_dump(), **override})
        allowed = self.identifier_names() | KEY_EXTRA_PLACEHOLDERS
        unknown = placeholders(policy.key) - allowed
        if unknown:
            raise ValueError(f"rate_limit.key: placeholder(s) {sorted(unknown)} not declared")
        return policy

    def rate_limit_key(
        self, account: Mapping[str, str], *, connection: str = "", app: str = "default"
    ) -> str:
        """The limiter key requests of this account are counted on."""
        values = self.validate_account(account)
        values.update(connection=connection, app=app)
        return render(self.rate_limit.key, values)
