"""API-key authentication: each key is scoped to one organization, or is an admin key.

Keys travel as ``Authorization: Bearer sy_...`` (or ``X-API-Key``); only their SHA-256 is
stored, so a leaked database does not leak usable keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.app import Runtime


@dataclass(frozen=True)
class Principal:
    """Who is calling: an org-scoped key (``org_id`` set) or an admin key."""

    key_id: str
    org_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.org_id is None

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_id}"

    def org_for(self, requested: str | None) -> str:
        """The org a request acts on: its own for org keys; admin keys must name one."""
        if self.org_id is None:
            if requested is None:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    detail=[{"field": "org_id", "message": "required with an admin key"}],
                )
            return requested
        if requested is not None and requested != self.org_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this key cannot act on that org")
        return self.org_id


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def authenticate(request: Request, runtime: Annotated[Runtime, Depends(runtime_of)]) -> Principal:
    """Resolve the caller's key or answer 401 (missing, unknown or revoked alike)."""
    presented = _presented_key(request)
    if presented is None:
        raise _unauthorized("missing API key: send Authorization: Bearer <key>")
    with runtime.sessions.begin() as session:
        key = ApiKeyRepository(session).authenticate(presented)
        if key is None:
            raise _unauthorized("invalid or revoked API key")
        return Principal(key_id=key.id, org_id=key.org_id)


def require_admin(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    if not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="admin key required")
    return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
CurrentRuntime = Annotated[Runtime, Depends(runtime_of)]
