"""One outbound policy for every request Switchyard makes on a tenant's behalf.

:mod:`~providers.outbound.addresses` says which addresses are public,
:mod:`~providers.outbound.policy` holds the rules (scheme, port, host, addresses) and
:mod:`~providers.outbound.transport` enforces them where sockets are opened. Provider calls,
connection checks, token requests and webhook deliveries all go through it; the rules are
tabled in ``docs/outbound.md``.
"""

from providers.outbound.policy import (
    UNREACHABLE,
    OutboundPolicy,
    OutboundRefused,
)
from providers.outbound.transport import guarded_client, shared_client

__all__ = [
    "UNREACHABLE",
    "OutboundPolicy",
    "OutboundRefused",
    "guarded_client",
    "shared_client",
]
