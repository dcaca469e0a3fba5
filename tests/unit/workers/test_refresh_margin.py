"""The refresh margin: the catalog's seconds, capped at a fraction of the token's lifetime."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from providers.spec_auth import OAuth2ClientCredentialsAuth, OAuth2CodeAuth

CODE: dict[str, Any] = {
    "mode": "oauth2_code",
    "token_url": "https://example.test/token",
    "authorize_url": "https://example.test/authorize",
}


@pytest.mark.parametrize(
    ("lifetime", "margin"), [(None, 300.0), (3600, 300.0), (600, 300.0), (60, 30.0), (10, 5.0)]
)
def test_margin_is_capped_at_half_the_lifetime_by_default(
    lifetime: int | None, margin: float
) -> None:
    """300 s by default; a 60 s token refreshes 30 s before expiry; unknown lifetime: 300 s."""
    assert OAuth2CodeAuth.model_validate(CODE).refresh_margin(lifetime) == margin


def test_catalog_entry_overrides_the_fraction() -> None:
    """``refresh_margin_fraction`` in an entry's auth block replaces the default cap."""
    auth = OAuth2ClientCredentialsAuth.model_validate(
        {
            "mode": "oauth2_client_credentials",
            "token_url": "https://example.test/token",
            "refresh_margin_fraction": 0.2,
        }
    )
    assert auth.refresh_margin(60) == pytest.approx(12.0)
    assert auth.refresh_margin(7200) == 300.0


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_fraction_outside_zero_to_one_is_refused(fraction: float) -> None:
    """A fraction of 0 would never refresh ahead and 1 or more would refresh on every use."""
    with pytest.raises(ValidationError, match="refresh_margin_fraction"):
        OAuth2CodeAuth.model_validate({**CODE, "refresh_margin_fraction": fraction})
