"""Every error the providers package raises, as one tree.

    ProviderError                  base: anything raised by ``providers``
    ├── CatalogError               a catalog file or override is invalid (also ValueError)
    ├── UnknownProviderError       no entry by that name or alias (also LookupError)
    ├── TransientError             worth retrying with backoff
    │   ├── ServerError            5xx from the provider
    │   ├── RequestTimeout         connect/read/write/pool timeout
    │   ├── ConnectionFailed       DNS, refused, reset, TLS, protocol errors
    │   └── MalformedResponse      a success status with a body we cannot decode
    ├── RateLimited                429 or a provider's equivalent; ``retry_after`` seconds
    ├── AuthError                  401 / expired or revoked credential: refresh once, retry
    └── PermanentError             other 4xx: retrying will not help; ``status``, ``body``
        ├── InvalidAccountError    an account identifier is missing or malformed (also ValueError)
        ├── InvalidGrant           the token endpoint refused the grant: reconnect needed
        └── DestinationRefused     the outbound policy refused the host (class ``blocked``)

Why one tree: the worker's outcome classification (retry, defer, refresh, dead-letter) is a
single ``except`` per branch, and raw ``httpx`` exceptions never leak past
:class:`providers.client.ProviderClient`, the only place they are caught.

Messages and reprs never carry credentials: URLs are shown without their query string (API
keys travel there for some providers) and body excerpts are bounded and scrubbed by the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.ratelimit_feedback import RateLimitFeedback

#: Longest excerpt of a provider's error body kept on an exception.
BODY_EXCERPT_LIMIT = 500


def excerpt(text: str, limit: int = BODY_EXCERPT_LIMIT) -> str:
    """A bounded, single-line excerpt of a provider's body for messages and dead letters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ProviderError(Exception):
    """Base of every providers error; ``provider`` is the catalog name when known."""

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, provider={self.provider!r})"


class CatalogError(ProviderError, ValueError):
    """A catalog entry or override failed validation; the message names file, provider, field."""


class UnknownProviderError(ProviderError, LookupError):
    """No catalog entry has this name or alias; the message suggests close matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown provider {name!r}{hint}", provider=None)
        self.name = name
        self.suggestions = suggestions


class _CallError(ProviderError):
    """Shared fields of errors raised for one provider call."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        body: str = "",
        feedback: RateLimitFeedback | None = None,
    ) -> None:
        super().__init__(message, provider=provider)
        self.status = status
        self.body = excerpt(body)
        self.feedback = feedback


class TransientError(_CallError):
    """The call may succeed later: retry with exponential backoff and jitter."""


class ServerError(TransientError):
    """The provider answered 5xx."""


class RequestTimeout(TransientError):
    """No answer in time (connect, read, write or waiting for a pooled connection)."""


class ConnectionFailed(TransientError):
    """The request never reached the provider or the connection broke mid-way."""


class MalformedResponse(TransientError):
    """A success status whose body could not be decoded (truncated JSON, HTML error page)."""


class RateLimited(_CallError):
    """The provider refused for rate reasons; ``retry_after`` is the wait it asked for."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        body: str = "",
        feedback: RateLimitFeedback | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status, body=body, feedback=feedback)
        self.retry_after = retry_after


class AuthError(_CallError):
    """The credential was refused (401, expired or revoked token): refresh once, then retry."""


class PermanentError(_CallError):
    """Retrying the same request will not help (other 4xx, validation, bad identifiers)."""


class InvalidGrant(PermanentError):
    """``invalid_grant`` (revoked, expired or already-used refresh token): the user must reconnect."""


class DestinationRefused(PermanentError):
    """The outbound policy refused where the request would go (:mod:`providers.outbound`).

    Its message reads like a failed connection's, on purpose (no oracle for tenants).
    """

    error_class = "blocked"


class InvalidAccountError(PermanentError, ValueError):
    """An account identifier is missing or does not match the catalog's pattern."""

    def __init__(self, provider: str, identifier: str, problem: str) -> None:
        super().__init__(
            f"{provider}: account identifier {identifier!r} {problem}", provider=provider
        )
        self.identifier = identifier
