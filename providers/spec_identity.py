"""Where a provider itself tells us which account a connection is for.

An organization may type its account identifiers, but a typed value proves nothing: an
account id that routes app-wide inbound webhooks must come from the provider. Each
identifier of a catalog entry may say where the provider returns it:

* ``token_response``: a field of the token endpoint's answer (Slack ``team.id``, Salesforce
  ``instance_url``, Square ``merchant_id``), read server to server;
* ``callback``: a query parameter of the OAuth redirect (QuickBooks ``realmId``), which
  passes through the user's browser and so counts as proven only once an API call with the
  new token on that account succeeds (the catalog's ``check`` request);
* ``api``: a field of an API answer fetched with the connection's own credential (Stripe
  ``GET /account``, HubSpot ``GET /account-info/v3/details``, Xero-style connection lists).

``part`` reduces the value: ``host`` of a URL, its first ``subdomain`` label, or the
``last_segment`` of a URI path (Calendly's organization URI).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from providers.spec_auth import StrictModel

ValuePart = Literal["whole", "host", "subdomain", "last_segment"]


class IdentitySource(StrictModel):
    """Where the provider returns one account identifier (see the module docstring)."""

    kind: Literal["token_response", "callback", "api"]
    field: str = Field(
        min_length=1,
        description="Dotted path in the token response or API answer, or the callback's "
        "query parameter.",
    )
    path: str | None = Field(
        default=None, description="api only: the GET path, relative to the base URL."
    )
    part: ValuePart = "whole"

    @model_validator(mode="after")
    def _path_for_api(self) -> IdentitySource:
        if (self.kind == "api") != (self.path is not None):
            raise ValueError("path is required for kind api, and only for it")
        return self
