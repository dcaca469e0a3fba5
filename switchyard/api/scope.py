"""Which organization a request acts on, checked before any query uses it."""

from __future__ import annotations

from contract.envelope import InvalidJobError
from switchyard.api.auth import Principal
from switchyard.api.errors import invalid
from switchyard.runtime import Runtime


def acting_org(principal: Principal, runtime: Runtime, requested: str | None) -> str:
    """The key's own org, or the one an admin key names, by id or unique name — which must
    exist (422 if not, or if the name is ambiguous), so an unknown org never reaches a
    foreign key or a lane as a 500. An org key naming itself by name is itself."""
    if requested is not None:
        try:
            requested = runtime.enqueuer.org_id(requested)
        except InvalidJobError as exc:
            if principal.is_admin:
                raise invalid(exc.errors) from None
            # An org key naming an org that is not its own: 403 below, as before.
    return principal.org_for(requested)
