"""Plain credential values; their reprs never show a secret.

These are what callers hand to the client after decrypting what storage holds. They carry
no behaviour beyond masking, so they can be built anywhere (tests, the sandbox, workers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.errors import PermanentError
from providers.spec import AdminCredentialAuth, ProviderSpec


def _mask(secret: str) -> str:
    return f"<{len(secret)} chars>" if secret else "<empty>"


@dataclass(frozen=True)
class BearerToken:
    """An OAuth2 access token (authorization code or client credentials)."""

    access_token: str = field(repr=False)

    def __repr__(self) -> str:
        return f"BearerToken(access_token={_mask(self.access_token)})"

    def secrets(self) -> tuple[str, ...]:
        """Values to scrub from anything logged or stored."""
        return (self.access_token,)


@dataclass(frozen=True)
class ApiKey:
    """A static API key."""

    key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"ApiKey(key={_mask(self.key)})"

    def secrets(self) -> tuple[str, ...]:
        """Values to scrub from anything logged or stored."""
        return (self.key,)


@dataclass(frozen=True)
class BasicCredential:
    """A username/password pair (consumer key/secret, account SID/auth token...)."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"BasicCredential(username={_mask(self.username)}, password={_mask(self.password)})"

    def secrets(self) -> tuple[str, ...]:
        """Values to scrub from anything logged or stored."""
        return (self.username, self.password)


@dataclass(frozen=True)
class AdminSecrets:
    """The operator's secrets for an ``admin_credential`` provider, by secret name."""

    values: Mapping[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"AdminSecrets(names={sorted(self.values)})"

    def secrets(self) -> tuple[str, ...]:
        """Values to scrub from anything logged or stored."""
        return tuple(value for value in self.values.values() if value)


Credential = BearerToken | ApiKey | BasicCredential | AdminSecrets


def admin_secrets_from_settings(
    spec: ProviderSpec, provider_settings: Mapping[str, Any]
) -> AdminSecrets:
    """Pick the entry's declared secrets out of ``settings.providers[<name>]``.

    Raises :class:`PermanentError` naming the environment variable of a missing required
    secret: no retry will make an unset variable appear.
    """
    if not isinstance(spec.auth, AdminCredentialAuth):
        raise TypeError(f"{spec.name} does not use admin_credential auth")
    values: dict[str, str] = {}
    for secret in spec.auth.secrets:
        value = provider_settings.get(secret.name)
        if value in (None, ""):
            if secret.required:
                env = f"SWITCHYARD_PROVIDERS__{spec.name.upper()}__{secret.name.upper()}"
                raise PermanentError(
                    f"{spec.name}: admin secret {env} is not set", provider=spec.name
                )
            continue
        values[secret.name] = str(value)
    return AdminSecrets(values)
