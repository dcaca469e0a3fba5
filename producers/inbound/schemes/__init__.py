"""Signature schemes by the name the catalog gives them (``webhook_scheme``)."""

from __future__ import annotations

from producers.inbound.schemes.base import (
    Description,
    Incoming,
    PayloadError,
    Scheme,
    SignatureError,
)
from producers.inbound.schemes.body_signed import (
    GitHubScheme,
    MetaScheme,
    ShopifyScheme,
    SquareScheme,
    TwilioScheme,
)
from producers.inbound.schemes.timestamped import (
    CalendlyScheme,
    HubSpotV3Scheme,
    SlackScheme,
    StandardWebhooksScheme,
    StripeScheme,
)

SCHEMES: dict[str, type[Scheme]] = {
    scheme.name: scheme
    for scheme in (
        StripeScheme,
        ShopifyScheme,
        SlackScheme,
        TwilioScheme,
        HubSpotV3Scheme,
        MetaScheme,
        CalendlyScheme,
        SquareScheme,
        GitHubScheme,
        StandardWebhooksScheme,
    )
}

__all__ = ["SCHEMES", "Description", "Incoming", "PayloadError", "Scheme", "SignatureError"]
