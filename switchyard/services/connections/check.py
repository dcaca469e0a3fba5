"""``check``: prove a connection works with the catalog's cheap authenticated request.

The request goes through :func:`workers.provider_calls.call_provider`, like any job's: an
expiring token is refreshed first, a 401 refreshes once, and the shared limiter hears the
answer. So a passing check means jobs will pass too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from contract.envelope import load_envelope
from providers.errors import ProviderError
from providers.templates import render_path
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.records import show_connection
from workers.errors import JobError, error_class_of
from workers.provider_calls import call_provider


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; ``detail`` says why it failed (never a secret)."""

    connection_id: str
    provider: str
    ok: bool
    status: int | None
    detail: str
    error_class: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_connection(deps: ConnectionDeps, org_id: str, connection_id: str) -> CheckResult:
    """Call the provider's check endpoint for the connection; never raises for a failure."""
    view = show_connection(deps, org_id, connection_id)
    spec = deps.catalog.get(view["provider"])

    def result(ok: bool, status: int | None, detail: str, error: str | None = None) -> CheckResult:
        return CheckResult(connection_id, spec.name, ok, status, detail, error)

    if spec.check is None:
        return result(False, None, f"the catalog names no check request for {spec.name}")
    job = load_envelope(
        {
            "kind": "action",
            "org_id": org_id,
            "provider": spec.name,
            "connection": view["name"],
            "payload": {"action": "check"},
        },
        providers=deps.catalog,
    )
    try:
        path = render_path(spec.check.path, spec.template_values(view["account_identifier"]))
        response = call_provider(
            deps.provider_calls(), job, spec.check.method, path, params=spec.check.params or None
        )
    except (JobError, ProviderError) as exc:
        return result(False, getattr(exc, "status", None), str(exc), error_class_of(exc))
    ok = response.status_code in spec.check.expect_status
    detail = "ok" if ok else f"unexpected status {response.status_code}"
    return result(ok, response.status_code, detail)
