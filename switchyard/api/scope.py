"""Which organization a request acts on, checked before any query uses it."""

from __future__ import annotations

from switchyard.api.auth import Principal
from switchyard.api.errors import invalid
from switchyard.app import Runtime
from workers.envelope import FieldError


def acting_org(principal: Principal, runtime: Runtime, requested: str | None) -> str:
    """The key's own org, or the one an admin key names — which must exist (422 if not),
    so an unknown org never reaches a foreign key or a lane as a 500."""
    org = principal.org_for(requested)
    if principal.is_admin and runtime.enqueuer.org_weight(org) is None:
        raise invalid([FieldError("org_id", f"unknown organization {org[:64]!r}")])
    return org
