"""Values that carry secrets through the connect flows never show them when printed."""

from __future__ import annotations

from switchyard.services.connections.records import NewCredential


def test_new_credential_repr_hides_every_secret() -> None:
    """repr() of a credential on its way to storage names the mode, never the secrets."""
    credential = NewCredential(
        "oauth2_code", access_token="at-SECRET", refresh_token="rt-SECRET", api_key="k-SECRET",
        secret="pw-SECRET",
    )  # fmt: skip
    shown = repr(credential) + str(credential)
    assert "oauth2_code" in shown and "SECRET" not in shown
