"""``connections import``: bring tokens over from another system, one JSON line per connection.

Each line is an object::

    {"org": "acme", "provider": "hubspot", "account": {"portal_id": "62515"},
     "access_token": "...", "refresh_token": "...", "expires_at": "2026-12-01T10:00:00Z",
     "name": "default", "scopes": ["crm.objects.contacts.read"]}

``org`` is a name or id; ``name``, ``scopes``, ``refresh_token`` and ``expires_at`` are
optional. Lines are validated one by one: a bad line is refused with its number and the
field at fault (never its secret values), the others are imported. A connected connection
is refused rather than overwritten (disconnect it first if the import should win); one in
``error`` or ``disconnected`` is reconnected with the imported tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contract.envelope import FieldError
from providers.spec_auth import REFRESHABLE_AUTH_MODES
from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.services.connections.deps import ConnectionDeps
from switchyard.services.connections.oauth_flow import validated_account
from switchyard.services.connections.records import NewCredential, save_connection, validated_name
from switchyard.services.errors import InvalidInput, ServiceError, field_error

FIELDS = frozenset(
    {"org", "provider", "account", "access_token", "refresh_token", "expires_at", "name", "scopes"}
)
MAX_TOKEN_CHARS = 8192


@dataclass
class ImportReport:
    """What an import did: connections created, and refused lines with the reason."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "refused": self.refused,
            "counts": {"imported": len(self.imported), "refused": len(self.refused)},
        }


@dataclass(frozen=True)
class _Line:
    org_id: str
    provider: str
    name: str
    account: dict[str, str]
    credential: NewCredential


def import_lines(deps: ConnectionDeps, lines: Iterable[str], *, actor: str) -> ImportReport:
    """Validate and import each non-blank line; never stops at a bad one."""
    report = ImportReport()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            line = _parse(deps, text)
            view = save_connection(
                deps,
                line.org_id,
                line.provider,
                name=line.name,
                account=line.account,
                credential=line.credential,
                actor=actor,
            )
        except ServiceError as exc:
            field = exc.fields[0] if exc.fields else FieldError("(line)", exc.message)
            report.refused.append({"line": number, "field": field.field, "reason": field.message})
            continue
        report.imported.append(
            {
                "line": number,
                "connection_id": view["id"],
                "org_id": line.org_id,
                "provider": line.provider,
            }
        )
    return report


def _parse(deps: ConnectionDeps, text: str) -> _Line:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise field_error(
            InvalidInput, "(line)", f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise field_error(InvalidInput, "(line)", "must be a JSON object")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise field_error(InvalidInput, unknown[0], "unknown field")
    provider = data.get("provider")
    if not isinstance(provider, str) or provider not in deps.catalog:
        raise field_error(InvalidInput, "provider", f"unknown provider {provider!r}")
    spec = deps.catalog.get(provider)
    if spec.auth.mode not in REFRESHABLE_AUTH_MODES:
        raise field_error(
            InvalidInput, "provider", f"{spec.name} uses {spec.auth.mode} auth, not OAuth tokens"
        )
    name = validated_name(data.get("name", "default"))
    org_id = _org(deps, data.get("org"), spec.name, name)
    account = validated_account(
        spec, data.get("account") or {}, require_all=True, policy=deps.policy
    )
    credential = NewCredential(
        auth_mode=spec.auth.mode,
        access_token=_token(data, "access_token", required=True),
        refresh_token=_token(data, "refresh_token", required=False),
        expires_at=_expiry(data.get("expires_at")),
        scopes=_scopes(data.get("scopes")),
    )
    return _Line(org_id, spec.name, name, account, credential)


def _org(deps: ConnectionDeps, org: Any, provider: str, name: str) -> str:
    if not isinstance(org, str) or not org:
        raise field_error(InvalidInput, "org", "is required (an organization name or id)")
    with deps.sessions() as session:
        try:
            org_id = OrganizationRepository(session).resolve(org).id
        except NotFoundError:
            raise field_error(InvalidInput, "org", f"no organization {org!r}") from None
        try:
            status = ConnectionRepository(session, org_id).get_by_provider(provider, name).status
        except NotFoundError:
            return org_id
    if status != "connected":  # errored or disconnected: the import reconnects it
        return org_id
    raise field_error(
        InvalidInput, "name", f"{provider}/{name} is already connected; disconnect it first"
    )


def _token(data: Mapping[str, Any], field_name: str, *, required: bool) -> str | None:
    value = data.get(field_name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise field_error(
            InvalidInput, field_name, "is required" if required else "must be a non-empty string"
        )
    if len(value) > MAX_TOKEN_CHARS or not value.isprintable():
        raise field_error(
            InvalidInput, field_name, f"must be printable, at most {MAX_TOKEN_CHARS} characters"
        )
    return value


def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    problem = "must be an ISO 8601 time with an offset, e.g. 2026-12-01T10:00:00Z"
    if not isinstance(value, str):
        raise field_error(InvalidInput, "expires_at", problem)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise field_error(InvalidInput, "expires_at", problem) from None
    if parsed.tzinfo is None:
        raise field_error(InvalidInput, "expires_at", problem)
    return parsed


def _scopes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise field_error(InvalidInput, "scopes", "must be a list of strings")
    return tuple(value)
