"""Reading account identifiers out of what a provider returns (token response, callback)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from providers.account_identity import learn_from_grant, reduce
from providers.registry import Catalog
from providers.spec_identity import IdentitySource


@pytest.mark.parametrize(
    ("raw", "part", "expected"),
    [
        ("https://mycompany.my.salesforce.com", "host", "mycompany.my.salesforce.com"),
        ("https://acme.pipedrive.com", "subdomain", "acme"),
        ("https://api.calendly.com/organizations/ABCDEFGH/", "last_segment", "ABCDEFGH"),
        (62515, "whole", "62515"),
        (None, "whole", None),
        (True, "whole", None),
        ({"id": "x"}, "whole", None),
        ("  ", "whole", None),
    ],
)
def test_reduce_takes_the_part_the_identifier_holds(raw: object, part: str, expected: str) -> None:
    """host, subdomain and last_segment cut a returned URL; objects and blanks give nothing."""
    assert reduce(raw, part) == expected  # type: ignore[arg-type]


def test_token_response_values_are_proven_and_callback_values_wait(catalog: Catalog) -> None:
    """Slack's team.id is proven by the token response; QuickBooks' realmId awaits a call."""
    slack = learn_from_grant(catalog.get("slack"), {"team": {"id": "T0ABCDEF"}}, {})
    assert (slack.values, slack.proofs) == ({"team_id": "T0ABCDEF"}, {"team_id": "token_response"})
    qbo = learn_from_grant(catalog.get("quickbooks"), {}, {"realmId": "4620816365"})
    assert (qbo.values, qbo.proofs) == ({"realm_id": "4620816365"}, {})


def test_an_api_source_needs_a_path_and_only_it_does() -> None:
    """kind api without a path, or a path on another kind, is a catalog error."""
    with pytest.raises(ValidationError, match="path is required"):
        IdentitySource(kind="api", field="id")
    with pytest.raises(ValidationError, match="path is required"):
        IdentitySource(kind="token_response", field="id", path="/x")
